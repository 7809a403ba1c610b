// @ts-check
/**
 * The runs table: the run hierarchy as an expandable tree with status, duration, start time,
 * tags and the final value of chosen metrics; sortable by any column, filtered by text, status
 * and tag. Rows are virtualised (only the rows in view are in the DOM), so 10,000 runs scroll
 * and filter as fast as 10.
 *
 * Mouse: click a row to select it alone (and show its details), Ctrl/⌘-click or its box to add
 * or remove it, Shift-click for a range, the triangle to expand. Keyboard (table focused):
 * ↑/↓ move, → expand, ← collapse or go to the parent, Space toggles, Enter selects alone.
 */

import { afterNextPaint, h, middleName, replaceChildren } from './lib/dom.js';
import { formatDuration, formatNumber, formatNumberLong, formatRelativeTime, formatTimestamp, statusKind, statusLabel, toEpochMs } from './lib/format.js';
import { ancestorsOfMatches, filterTree, flattenVisible, sortTree } from './lib/tree.js';
import { runColor } from './lib/colors.js';
import { scrollToRow, visibleRange } from './lib/virtual.js';

/** @typedef {import('./run-store.js').RunStore} RunStore */
/** @typedef {import('./run-store.js').Row} Row */
/** @typedef {import('./lib/tree.js').TreeNode} TreeNode */
/** @typedef {import('./lib/app-state.js').ViewState} ViewState */

/**
 * @typedef {{kind: 'run', node: TreeNode, depth: number, hasChildren: boolean, expanded: boolean}
 *   | {kind: 'more', parent: string | null, depth: number, loaded: number, total: number, loading: boolean, error: string | null}} Item
 */

/**
 * @typedef {Object} TreeCallbacks
 * @property {(patch: Partial<ViewState>) => void} setState
 * @property {(ids: string[], mode: 'only' | 'toggle' | 'range') => void} select
 * @property {(id: string) => void} focus
 * @property {(id: string, open: boolean) => void} expand
 * @property {(parent: string | null) => void} loadMore
 */

const ROW_HEIGHT = 30; // px; CSS .rh-row has the same height
const HEADER_HEIGHT = 32; // px; CSS .rh-row-header has the same height
const AUTO_COLUMNS = 3; // metric columns shown until the user picks
const SERVER_STATUSES = ['Running', 'NotResponding', 'Completed', 'Failed', 'Canceled'];

/**
 * The metric columns shown: the user's choice, else the first few metric names (losses and
 * validation metrics first, since those are what people compare).
 * @param {string[] | null} chosen
 * @param {Iterable<string>} names
 * @returns {string[]}
 */
export function metricColumns(chosen, names) {
  if (chosen) return chosen;
  const all = [...names];
  const score = (/** @type {string} */ n) => (/val|test|eval/i.test(n) ? 0 : 2) + (/loss|acc|mse|err|f1|auc|score/i.test(n) ? 0 : 1);
  return all.sort((a, b) => score(a) - score(b) || a.localeCompare(b, undefined, { numeric: true })).slice(0, AUTO_COLUMNS);
}

export class RunTree {
  /**
   * @param {RunStore} store
   * @param {TreeCallbacks} callbacks
   */
  constructor(store, callbacks) {
    this.store = store;
    this.callbacks = callbacks;
    /** @type {ViewState | null} */
    this.state = null;
    /** @type {Item[]} */
    this.items = [];
    /** @type {string[]} */
    this.columns = [];
    /** @type {Record<string, number>} */
    this.statusCounts = {};
    /** @type {string | null} anchor of Shift-click ranges */
    this.anchor = null;
    this.renderQueued = false;
    // Layout values kept from events, so drawing rows never forces a synchronous layout.
    this.scrollTop = 0;
    this.viewportHeight = window.innerHeight || 800; // until the first resize report
    /** @type {{tree: TreeNode[] | null, key: string, sorted: TreeNode[]}} the sorted tree, redone when data or sort change */
    this.sortCache = { tree: null, key: '', sorted: [] };
    /** @type {WeakMap<object, {signature: string, el: HTMLElement}>} row elements by row data */
    this.rowCache = new WeakMap();
    this.headerKey = '';
    this.statusKey = '';
    this.columnsKey = '';

    this.query = /** @type {HTMLInputElement} */ (h('input', {
      class: 'rh-input rh-filter', type: 'search', placeholder: 'Filter runs: name, id, tag…', 'aria-label': 'Filter runs',
      on: { input: () => this.callbacks.setState({ query: this.query.value }) },
    }));
    /** @type {ReadonlyMap<string, number>} style index per charted run (set by the app) */
    this.styles = new Map();
    this.tagInput = /** @type {HTMLInputElement} */ (h('input', {
      class: 'rh-input rh-tag-filter', type: 'search', placeholder: 'tag key:value', 'aria-label': 'Filter by tag (key or key:value, several separated by spaces)',
      title: 'Tags: "key" or "key:value"; several separated by spaces must all hold',
      on: { input: () => this.callbacks.setState({ tagFilter: this.tagInput.value }) },
    }));
    this.statusBar = h('div', { class: 'rh-status-filter', role: 'group', 'aria-label': 'Filter by status' });
    this.columnsBody = h('div', { class: 'rh-menu-body rh-columns-menu' });
    this.columnsMenu = h('details', { class: 'rh-menu' }, h('summary', { class: 'rh-btn rh-btn-small', title: 'Choose the metric columns' }, 'Columns'), this.columnsBody);
    this.summary = h('div', { class: 'rh-tree-summary', 'aria-live': 'polite' });
    this.header = h('div', { class: 'rh-row rh-row-header', role: 'row' });
    this.rowsBox = h('div', { class: 'rh-rows' });
    this.spacer = h('div', { class: 'rh-rows-spacer' }, this.rowsBox);
    this.message = h('div', { class: 'rh-tree-message', hidden: true });
    this.scroller = h(
      'div',
      {
        class: 'rh-tree-scroll', tabindex: '0', role: 'treegrid', 'aria-label': 'Runs',
        on: {
          scroll: () => {
            this.scrollTop = this.scroller.scrollTop;
            this.queueRender();
          },
          keydown: (e) => this.onKey(e),
          click: (e) => this.onClick(e),
          dblclick: (e) => this.onDoubleClick(e),
        },
      },
      this.header,
      this.spacer,
      this.message,
    );
    this.el = h(
      'div',
      { class: 'rh-tree' },
      h('div', { class: 'rh-filters' }, this.query, this.tagInput, this.columnsMenu,
        h('button', { class: 'rh-btn rh-btn-small', type: 'button', title: 'Download the rows shown as CSV', on: { click: () => this.downloadCsv() } }, 'CSV')),
      this.statusBar,
      this.summary,
      this.scroller,
    );
    new ResizeObserver((entries) => {
      const height = entries[entries.length - 1].contentRect.height;
      if (Math.abs(height - this.viewportHeight) < 1) return;
      const grew = height > this.viewportHeight;
      this.viewportHeight = height;
      // Reported after layout, before paint: a taller table needs its rows in this very frame;
      // a shorter one already has them (and a few spare), so the next frame will do.
      if (grew) this.renderRows();
      else this.queueRender();
    }).observe(this.scroller);
  }

  /**
   * Recompute the rows for a new state or new data, then draw the ones in view.
   * @param {ViewState} state
   * @param {Record<string, number>} statusCounts by server status, for the filter chips
   */
  update(state, statusCounts) {
    this.state = state;
    this.statusCounts = statusCounts;
    if (document.activeElement !== this.query) this.query.value = state.query;
    if (document.activeElement !== this.tagInput) this.tagInput.value = state.tagFilter;
    this.columns = metricColumns(state.columns, this.store.metricNames);
    this.renderStatusBar();
    this.renderColumnsMenu();
    this.items = this.computeItems(state);
    this.renderHeader();
    this.renderSummary();
    this.renderRows();
  }

  /**
   * @param {ViewState} state
   * @returns {Item[]}
   */
  computeItems(state) {
    const tags = state.tagFilter.split(/\s+/).filter(Boolean);
    const filtering = Boolean(state.query.trim() || state.statuses.length || tags.length);
    // Sort once per data or sort change; filtering keeps the order, so a keystroke only filters.
    const tree = this.store.tree();
    const sortKey = `${state.sort}|${state.descending}`;
    if (this.sortCache.tree !== tree || this.sortCache.key !== sortKey) {
      this.sortCache = { tree, key: sortKey, sorted: sortTree(tree, { column: state.sort, descending: state.descending }) };
    }
    const sorted = filterTree(this.sortCache.sorted, { text: state.query, statuses: state.statuses, tags });
    const expanded = new Set(state.expanded);
    if (filtering) for (const id of ancestorsOfMatches(sorted)) expanded.add(id);
    const visible = flattenVisible(sorted, expanded);
    /** @type {Item[]} */
    const items = [];
    /** @type {Array<{id: string, depth: number}>} expanded parents whose children are not all loaded */
    const open = [];
    const closeUntil = (/** @type {number} */ depth) => {
      while (open.length && open[open.length - 1].depth >= depth) {
        const { id, depth: d } = /** @type {{id: string, depth: number}} */ (open.pop());
        items.push(this.moreItem(id, d + 1));
      }
    };
    for (const row of visible) {
      closeUntil(row.depth);
      items.push({ kind: 'run', node: row.node, depth: row.depth, hasChildren: row.hasChildren, expanded: row.expanded });
      if (row.expanded && !filtering) {
        const page = this.store.children.get(row.node.id);
        const declared = Number(row.node.row.child_count ?? 0);
        if (!page || page.loading || page.error || page.loaded < declared) open.push({ id: row.node.id, depth: row.depth });
      }
    }
    closeUntil(0);
    const roots = this.store.roots;
    if (roots.loading || roots.error || roots.loaded < roots.total) {
      if (items.length || roots.loaded) items.push(this.moreItem(null, 0));
    }
    return items;
  }

  /**
   * @param {string | null} parent
   * @param {number} depth
   * @returns {Item}
   */
  moreItem(parent, depth) {
    const page = parent === null ? this.store.roots : this.store.children.get(parent);
    const total = parent === null ? this.store.roots.total : Number(this.store.rows.get(parent)?.child_count ?? page?.total ?? 0);
    return { kind: 'more', parent, depth, loaded: page?.loaded ?? 0, total, loading: page ? page.loading : true, error: page?.error ?? null };
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderRows();
    });
  }

  gridTemplate() {
    return ['30px', 'minmax(160px, 2.2fr)', '104px', '70px', '72px', 'minmax(80px, 1fr)', ...this.columns.map(() => '84px')].join(' ');
  }

  renderHeader() {
    const state = /** @type {ViewState} */ (this.state);
    const template = this.gridTemplate();
    const runIds = this.runIds();
    const selected = new Set(state.selected);
    const count = runIds.filter((id) => selected.has(id)).length;
    const key = JSON.stringify([template, this.columns, state.sort, state.descending, count, runIds.length]);
    if (key === this.headerKey) return;
    this.headerKey = key;
    // Custom properties set only on change: setting one restyles every row.
    this.scroller.style.setProperty('--rh-grid-template', template);
    const minWidth = 30 + 160 + 104 + 70 + 72 + 80 + this.columns.length * 84;
    this.scroller.style.setProperty('--rh-row-min-width', `${minWidth}px`);
    const all = h('input', {
      type: 'checkbox', 'aria-label': 'Select all runs shown',
      props: { checked: runIds.length > 0 && count === runIds.length, indeterminate: count > 0 && count < runIds.length },
      on: {
        change: () => {
          const ids = this.runIds();
          const chosen = new Set(/** @type {ViewState} */ (this.state).selected);
          this.callbacks.select(ids.every((id) => chosen.has(id)) ? [] : ids, 'only');
        },
      },
    });
    /** @param {string} label @param {string | null} column @param {string} [title] */
    const head = (label, column, title) => {
      if (column === null) return h('div', { class: 'rh-cell rh-head', role: 'columnheader', title: title ?? label }, label);
      const active = state.sort === column;
      const arrow = active ? (state.descending ? ' ▼' : ' ▲') : '';
      return h('div', {
        class: ['rh-cell', 'rh-head', 'rh-sortable', active && 'rh-sorted'], role: 'columnheader', title: title ?? `Sort by ${label}`,
        'aria-sort': active ? (state.descending ? 'descending' : 'ascending') : 'none', 'data-sort': column,
      }, label, arrow);
    };
    replaceChildren(
      this.header,
      h('div', { class: 'rh-cell rh-cell-check' }, all),
      head('Run', 'display_name'),
      head('Status', 'status'),
      head('Duration', 'duration'),
      head('Started', 'start_time'),
      head('Tags', null),
      this.columns.map((name) => head(name, `metric:${name}`, `Final value of ${name}; click to sort`)),
    );
  }

  renderRows() {
    const state = this.state;
    if (!state) return;
    const range = visibleRange({
      scrollTop: Math.max(0, this.scrollTop - HEADER_HEIGHT),
      height: this.viewportHeight,
      rowHeight: ROW_HEIGHT,
      count: this.items.length,
    });
    this.spacer.style.height = `${range.total}px`;
    this.rowsBox.style.transform = `translateY(${range.offset}px)`;
    // The style index of each selected run (its colour in the charts), as the app assigned it.
    const selectedIndex = new Map(state.selected.map((id, i) => [id, this.styles.get(id) ?? i]));
    const template = this.gridTemplate();
    /** @type {HTMLElement[]} */
    const rows = [];
    for (let i = range.start; i < range.end; i++) {
      const item = this.items[i];
      rows.push(item.kind === 'run' ? this.cachedRunRow(item, selectedIndex, state.focus, template) : this.moreRow(item));
    }
    replaceChildren(this.rowsBox, rows);
    this.renderMessage();
    if (rows.length > 0 && !this.scroller.dataset.firstRowsAt) {
      this.scroller.dataset.firstRowsAt = 'pending';
      // Epoch milliseconds of the first painted rows (the benchmark compares it with the click).
      afterNextPaint((t) => {
        this.scroller.dataset.firstRowsAt = String(performance.timeOrigin + t);
      });
    }
  }

  /**
   * A run's row element, reused while nothing it shows changed (scrolling and filtering then
   * mostly move existing elements).
   * @param {Extract<Item, {kind: 'run'}>} item
   * @param {Map<string, number>} selectedIndex
   * @param {string | null} focus
   * @param {string} template
   */
  cachedRunRow(item, selectedIndex, focus, template) {
    const { node } = item;
    const live = statusKind(node.row.status) === 'running';
    const signature = [selectedIndex.get(node.id), focus === node.id, item.depth, item.expanded, item.hasChildren, node.matched, node.childCount, template,
      live ? Math.floor(Date.now() / 1000) : '', Math.floor(Date.now() / 60_000)].join('|');
    const cached = this.rowCache.get(node.row);
    if (cached && cached.signature === signature) return cached.el;
    const el = this.runRow(item, selectedIndex, focus, template);
    this.rowCache.set(node.row, { signature, el });
    return el;
  }

  /**
   * @param {Extract<Item, {kind: 'run'}>} item
   * @param {Map<string, number>} selectedIndex
   * @param {string | null} focus
   * @param {string} template
   */
  runRow(item, selectedIndex, focus, template) {
    const { node, depth } = item;
    const row = /** @type {Row} */ (node.row);
    const kind = statusKind(row.status);
    const index = selectedIndex.get(node.id);
    const selected = index !== undefined;
    const color = selected ? runColor(index) : '';
    const start = toEpochMs(row.start_time);
    const end = toEpochMs(row.end_time);
    const until = end ?? (kind === 'running' ? Date.now() : null);
    const tags = Object.entries(row.tags ?? {});
    const metrics = row.metrics ?? {};
    return h(
      'div',
      {
        class: ['rh-row', selected && 'rh-row-selected', focus === node.id && 'rh-row-focus', !node.matched && 'rh-row-context'],
        role: 'row', 'data-id': node.id, 'aria-selected': selected ? 'true' : 'false', 'aria-level': String(depth + 1),
        'aria-expanded': item.hasChildren ? String(item.expanded) : null,
        style: selected ? { '--rh-run-color': color } : undefined,
      },
      h('div', { class: 'rh-cell rh-cell-check' }, h('input', { type: 'checkbox', class: 'rh-check', tabindex: '-1', 'aria-label': `Select ${row.display_name ?? node.id}`, props: { checked: selected } })),
      h(
        'div',
        { class: 'rh-cell rh-cell-name', style: { 'padding-left': `${4 + depth * 16}px` } },
        item.hasChildren
          ? h('button', { class: 'rh-twisty', type: 'button', tabindex: '-1', 'aria-label': item.expanded ? 'Collapse' : 'Expand' }, item.expanded ? '▾' : '▸')
          : h('span', { class: 'rh-twisty-space' }),
        middleName(String(row.display_name ?? node.id), 'rh-name', `${row.display_name ?? ''}\n${node.id}`),
        item.hasChildren && h('span', { class: 'rh-count', title: `${node.childCount} child runs` }, String(node.childCount)),
      ),
      h('div', { class: 'rh-cell' }, h('span', { class: `rh-status rh-status-${kind}`, title: row.error ? String(row.error) : statusLabel(row.status) }, statusLabel(row.status))),
      h('div', { class: 'rh-cell rh-num' }, start !== null && until !== null ? formatDuration(until - start) : ''),
      h('div', { class: 'rh-cell', title: formatTimestamp(row.start_time) }, formatRelativeTime(row.start_time)),
      h(
        'div',
        { class: 'rh-cell rh-tags', title: tags.map(([k, v]) => (v === '' || v === null ? k : `${k}: ${v}`)).join('\n') },
        tags.slice(0, 3).map(([k, v]) => h('span', { class: 'rh-tag' }, v === '' || v === null ? k : `${k}: ${v}`)),
        tags.length > 3 && h('span', { class: 'rh-muted' }, `+${tags.length - 3}`),
      ),
      this.columns.map((name) => h('div', { class: 'rh-cell rh-num', title: formatNumberLong(/** @type {any} */ (metrics[name])) }, formatNumber(/** @type {any} */ (metrics[name])))),
    );
  }

  /** @param {Extract<Item, {kind: 'more'}>} item */
  moreRow(item) {
    const label = item.error
      ? `Could not load runs: ${item.error}`
      : item.loading
        ? 'Loading…'
        : `Load more (${item.loaded.toLocaleString('en-US')} of ${item.total.toLocaleString('en-US')})`;
    return h(
      'div',
      { class: 'rh-row rh-row-more', role: 'row', 'data-more': item.parent ?? '' },
      h('div', { class: 'rh-cell rh-cell-more', style: { 'padding-left': `${36 + item.depth * 16}px` } },
        item.loading && !item.error ? h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }) : null,
        item.loading && !item.error ? label : h('button', { class: 'rh-link-btn', type: 'button', 'data-load': item.parent ?? '' }, item.error ? `${label} (retry)` : label)),
    );
  }

  renderMessage() {
    const store = this.store;
    let message = null;
    if (store.roots.error && store.rows.size === 0) {
      message = [h('strong', null, 'Could not load the runs. '), store.roots.error, ' ', h('button', { class: 'rh-btn rh-btn-small', type: 'button', 'data-load': '' }, 'Retry')];
    } else if (store.rows.size === 0 && (store.roots.loading || store.roots.total > 0)) {
      message = [h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading runs…'];
    } else if (store.rows.size === 0) {
      message = [h('strong', null, 'No runs in this experiment yet.'), ' Start one with exp.start_logging(); it appears here while it runs.'];
    } else if (!this.items.some((i) => i.kind === 'run')) {
      message = [
        h('strong', null, 'No runs match the filters. '),
        store.searchState.running ? 'Searching all runs on the server… ' : '',
        h('button', { class: 'rh-btn rh-btn-small', type: 'button', 'data-clear-filters': '1' }, 'Clear filters'),
      ];
    }
    this.message.hidden = message === null;
    replaceChildren(this.message, message);
  }

  renderSummary() {
    const store = this.store;
    const shown = this.items.filter((i) => i.kind === 'run' && i.node.matched).length;
    const total = store.roots.total;
    const state = /** @type {ViewState} */ (this.state);
    const filtering = state.query.trim() || state.statuses.length || state.tagFilter.trim();
    const parts = [];
    if (filtering) parts.push(`${shown.toLocaleString('en-US')} matching`);
    parts.push(`${total.toLocaleString('en-US')} top-level run${total === 1 ? '' : 's'}`);
    if (store.roots.loaded < total) parts.push(`${store.roots.loaded.toLocaleString('en-US')} loaded`);
    if (store.searchState.running) parts.push('searching all runs…');
    else if (store.searchState.error) parts.push(`search failed: ${store.searchState.error}`);
    if (state.selected.length) parts.push(`${state.selected.length} selected`);
    this.summary.textContent = parts.join(' · ');
  }

  renderStatusBar() {
    const state = /** @type {ViewState} */ (this.state);
    const active = new Set(state.statuses);
    const statuses = SERVER_STATUSES.filter((s) => (this.statusCounts[s] ?? 0) > 0 || active.has(s));
    const key = JSON.stringify([statuses, state.statuses, statuses.map((s) => this.statusCounts[s] ?? 0)]);
    if (key === this.statusKey) return;
    this.statusKey = key;
    replaceChildren(this.statusBar, statuses.map((status) => {
      const on = active.has(status);
      return h('button', {
        class: ['rh-chip', 'rh-status-chip', `rh-status-${statusKind(status)}`, on && 'rh-chip-on'], type: 'button', 'aria-pressed': String(on),
        title: on ? `Showing ${statusLabel(status)} runs; click to stop filtering by it` : `Show only ${statusLabel(status)} runs`,
        on: { click: () => this.callbacks.setState({ statuses: on ? state.statuses.filter((s) => s !== status) : [...state.statuses, status] }) },
      }, statusLabel(status), h('span', { class: 'rh-chip-count' }, String(this.statusCounts[status] ?? 0)));
    }));
  }

  renderColumnsMenu() {
    const state = /** @type {ViewState} */ (this.state);
    const names = [...this.store.metricNames].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const shown = new Set(this.columns);
    const key = JSON.stringify([names, this.columns, state.columns === null]);
    if (key === this.columnsKey) return;
    this.columnsKey = key;
    replaceChildren(
      this.columnsBody,
      names.length === 0 ? h('div', { class: 'rh-muted' }, 'No metrics logged yet.') : h('div', { class: 'rh-menu-note' }, 'Final value columns:'),
      names.map((name) => h('label', { class: 'rh-menu-row' },
        h('input', {
          type: 'checkbox', props: { checked: shown.has(name) },
          on: { change: () => this.callbacks.setState({ columns: shown.has(name) ? this.columns.filter((c) => c !== name) : [...this.columns, name] }) },
        }),
        h('span', { class: 'rh-menu-name' }, name))),
      state.columns !== null && h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.callbacks.setState({ columns: null }) } }, 'Automatic'),
    );
  }

  /** @param {MouseEvent} event */
  onClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const state = /** @type {ViewState} */ (this.state);
    const sortHead = target.closest('[data-sort]');
    if (sortHead instanceof HTMLElement) {
      const column = sortHead.dataset.sort ?? 'start_time';
      const numeric = column !== 'display_name' && column !== 'status';
      this.callbacks.setState(state.sort === column ? { descending: !state.descending } : { sort: column, descending: numeric });
      return;
    }
    const load = target.closest('[data-load]');
    if (load instanceof HTMLElement) {
      this.callbacks.loadMore(load.dataset.load ? load.dataset.load : null);
      return;
    }
    if (target.closest('[data-clear-filters]')) {
      this.callbacks.setState({ query: '', statuses: [], tagFilter: '' });
      return;
    }
    const rowEl = target.closest('.rh-row[data-id]');
    if (!(rowEl instanceof HTMLElement)) return;
    const id = rowEl.dataset.id ?? '';
    const item = this.items.find((i) => i.kind === 'run' && i.node.id === id);
    if (target.closest('.rh-twisty') && item?.kind === 'run') {
      this.callbacks.expand(id, !item.expanded);
      return;
    }
    if (target.classList.contains('rh-check') || event.ctrlKey || event.metaKey) {
      this.anchor = id;
      this.callbacks.select([id], 'toggle');
      return;
    }
    if (event.shiftKey && this.anchor) {
      const ids = this.runIds();
      const a = ids.indexOf(this.anchor);
      const b = ids.indexOf(id);
      if (a >= 0 && b >= 0) {
        this.callbacks.select(ids.slice(Math.min(a, b), Math.max(a, b) + 1), 'range');
        return;
      }
    }
    this.anchor = id;
    this.callbacks.select([id], 'only');
    this.callbacks.focus(id);
  }

  /** @param {MouseEvent} event */
  onDoubleClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const rowEl = target.closest('.rh-row[data-id]');
    if (!(rowEl instanceof HTMLElement) || target.closest('.rh-twisty, .rh-check')) return;
    const item = this.items.find((i) => i.kind === 'run' && i.node.id === rowEl.dataset.id);
    if (item?.kind === 'run' && item.hasChildren) this.callbacks.expand(item.node.id, !item.expanded);
  }

  runIds() {
    return this.items.filter((i) => i.kind === 'run').map((i) => /** @type {Extract<Item, {kind: 'run'}>} */ (i).node.id);
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (event.target !== this.scroller) return;
    const state = /** @type {ViewState} */ (this.state);
    const runs = /** @type {Array<Extract<Item, {kind: 'run'}>>} */ (this.items.filter((i) => i.kind === 'run'));
    if (runs.length === 0) return;
    let index = runs.findIndex((i) => i.node.id === state.focus);
    const current = index >= 0 ? runs[index] : null;
    const move = (/** @type {number} */ to) => {
      const next = runs[Math.max(0, Math.min(runs.length - 1, to))];
      this.anchor = next.node.id;
      // The app re-renders on the next frame; a key pressed before that (Home, then Enter at
      // once) must act on the row just focused, not on the focus of the last render.
      this.state = { ...state, focus: next.node.id };
      this.callbacks.focus(next.node.id);
      this.reveal(next.node.id);
    };
    switch (event.key) {
      case 'ArrowDown':
        move(index + 1);
        break;
      case 'ArrowUp':
        move(index < 0 ? 0 : index - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(runs.length - 1);
        break;
      case 'PageDown':
        move(index + Math.floor(this.viewportHeight / ROW_HEIGHT));
        break;
      case 'PageUp':
        move(index - Math.floor(this.viewportHeight / ROW_HEIGHT));
        break;
      case 'ArrowRight':
        if (current?.hasChildren && !current.expanded) this.callbacks.expand(current.node.id, true);
        else if (current?.expanded) move(index + 1);
        break;
      case 'ArrowLeft':
        if (current?.expanded) this.callbacks.expand(current.node.id, false);
        else if (current && current.node.row.parent_id != null) {
          const parent = String(current.node.row.parent_id);
          index = runs.findIndex((i) => i.node.id === parent);
          if (index >= 0) move(index);
        }
        break;
      case ' ':
        if (current) this.callbacks.select([current.node.id], 'toggle');
        break;
      case 'Enter':
        if (current) this.callbacks.select([current.node.id], 'only');
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  /** @param {string} id scroll a run's row into view */
  reveal(id) {
    const index = this.items.findIndex((i) => i.kind === 'run' && i.node.id === id);
    if (index < 0) return;
    // Row i spans [i * ROW_HEIGHT, (i + 1) * ROW_HEIGHT) below the sticky header, so in row
    // coordinates the rows in view are [scrollTop, scrollTop + viewport - header).
    const top = scrollToRow({ scrollTop: this.scrollTop, height: this.viewportHeight - HEADER_HEIGHT, rowHeight: ROW_HEIGHT, index });
    if (top !== this.scrollTop) {
      this.scroller.scrollTop = top;
      this.scrollTop = top;
    }
  }

  async downloadCsv() {
    const { toCSV } = await import('./lib/csv.js');
    const header = ['id', 'parent_id', 'name', 'depth', 'status', 'start_time', 'end_time', 'duration_s', 'tags', ...this.columns];
    const rows = this.items.filter((i) => i.kind === 'run').map((i) => {
      const { node, depth } = /** @type {Extract<Item, {kind: 'run'}>} */ (i);
      const row = /** @type {Row} */ (node.row);
      const metrics = row.metrics ?? {};
      return [node.id, row.parent_id ?? '', row.display_name ?? '', depth, row.status ?? '', formatTimestamp(row.start_time, { utc: true }), formatTimestamp(row.end_time, { utc: true }),
        row.duration ?? '', Object.entries(row.tags ?? {}).map(([k, v]) => (v ? `${k}:${v}` : k)).join(' '), ...this.columns.map((c) => metrics[c] ?? null)];
    });
    const url = URL.createObjectURL(new Blob([toCSV(header, rows)], { type: 'text/csv' }));
    const a = h('a', { href: url, download: 'runs.csv' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
