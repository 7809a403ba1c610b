// @ts-check
/**
 * The tab's controller: owns the view state (persisted in the URL hash and localStorage), the
 * run store, and the views (experiments, runs table, charts, sweep, details); turns user actions
 * into state changes and state changes into fetches and renders (one render per frame).
 * Polls every few seconds while something shown is running, and refreshes everything on
 * TensorBoard's reload.
 */

import { api } from './api.js';
import { ExperimentList } from './experiments.js';
import { RunStore } from './run-store.js';
import { RunTree } from './run-tree.js';
import { MAX_SELECTED, defaultState, stateFromMap, stateToMap } from './lib/app-state.js';
import { StyleMemory, runColor, runDash } from './lib/colors.js';
import { h, replaceChildren } from './lib/dom.js';
import { formatRelativeTime, statusKind } from './lib/format.js';
import { decodeHashState, encodeHashState } from './lib/hash-state.js';

/** @typedef {import('./lib/app-state.js').ViewState} ViewState */
/** @typedef {import('./tb-bridge.js').Bridge} Bridge */

/**
 * Requests index.js started before the modules loaded (each resolves to null on failure).
 * @typedef {Object} Boot
 * @property {Promise<any>} experiments the /experiments answer
 * @property {Promise<{experiment: string, answer: any} | null>} runs the first /runs page of one experiment
 */

const POLL_MS = 3000; // while a run shown is running
const STORAGE_KEY = 'runhistory.state';
const WIDTH_KEY = 'runhistory.sidebarWidth';
const STYLES_KEY = 'runhistory.runStyles'; // run id -> style index, so a run keeps its colour across reloads
const STYLES_KEPT = 2000; // most remembered, the most recently assigned
const SEARCH_DELAY_MS = 300; // typing pause before the server is searched too
const PERSIST_DELAY_MS = 250;

export class App {
  /**
   * @param {HTMLElement} root
   * @param {Bridge} bridge
   * @param {Boot | null} [boot]
   */
  constructor(root, bridge, boot = null) {
    this.root = root;
    this.bridge = bridge;
    /** @type {Promise<any> | null} used once, by the first load */
    this.bootExperiments = boot?.experiments ?? null;
    /** @type {Boot['runs'] | null} used once, by the first load */
    this.bootRuns = boot?.runs ?? null;
    /** @type {ViewState} */
    this.state = defaultState();
    /** @type {any[]} */
    this.experiments = [];
    /** @type {{hint: string | null, store: any} | null} */
    this.storeInfo = null;
    /** @type {string | null} */
    this.fatal = null;
    this.loaded = false;
    this.lastUpdate = 0;
    this.renderQueued = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.searchTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.persistTimer = undefined;
    this.polling = false;
    this.reloads = 0; // TensorBoard reloads handled (tests read it)
    this.tabsKey = '';
    this.liveText = '';
    /** @type {{wanted: number, limit: number} | null} the last selection cut to MAX_SELECTED */
    this.capped = null;
    this.styleMemory = new StyleMemory(STYLES_KEY, STYLES_KEPT); // a run keeps its colour across reloads
    /** @type {Map<string, number>} styles of the runs charted now */
    this.styles = new Map();
    /** @type {ReturnType<RunStore['charted']> | null} what the last render charted */
    this.charted = null;
    /** @type {{experiment: string, token: string} | null} the last /changes answer */
    this.changeToken = null;
    this.firstVisit = false; // no saved state: the first experiment opened selects its newest run

    this.store = new RunStore(() => this.scheduleRender());
    const select = (/** @type {string[]} */ ids, /** @type {'only' | 'toggle' | 'range'} */ mode) => this.select(ids, mode);
    const focus = (/** @type {string} */ id) => this.setState({ focus: id });
    const setState = (/** @type {Partial<ViewState>} */ patch) => this.setState(patch);
    const openInScalars = (/** @type {string} */ metric, /** @type {string[]} */ ids) => this.openInScalars(metric, ids);
    this.experimentList = new ExperimentList((id) => this.setState({ experiment: id, selected: [], focus: null, expanded: [], columns: null, sweepX: null, sweepY: null }));
    this.tree = new RunTree(this.store, {
      setState, select, focus,
      expand: (id, open) => this.expand(id, open),
      loadMore: (parent) => (parent === null ? (this.store.roots.loaded ? this.store.loadMoreRoots() : this.store.loadRoots()) : this.store.loadChildren(parent, { more: true })),
    });
    // The charts, sweep and details views load once the runs table is up (fewer requests
    // before the first paint); the plotting code loads with the first chart.
    /** @type {import('./charts.js').ChartsView | null} */
    this.charts = null;
    /** @type {import('./sweep.js').SweepView | null} */
    this.sweep = null;
    /** @type {import('./details.js').DetailsView | null} */
    this.details = null;
    /** @type {import('./compare.js').CompareView | null} */
    this.compare = null;
    // Views other than the table focus runs the table may not show yet: reveal them there.
    this.viewCallbacks = { select, focus: (/** @type {string} */ id) => void this.reveal(id), setState, openInScalars };
    /** @type {Promise<void> | null} */
    this.viewsLoading = null;

    this.tabs = h('div', { class: 'rh-tabs', role: 'tablist' });
    this.live = h('span', { class: 'rh-live', 'aria-live': 'polite' });
    this.storeLabel = h('span', { class: 'rh-muted rh-store' });
    this.main = h('main', { class: 'rh-main' });
    this.sidebar = h('aside', { class: 'rh-sidebar' }, this.experimentList.el, this.tree.el);
    const resizer = h('div', { class: 'rh-resizer', role: 'separator', 'aria-orientation': 'vertical', 'aria-label': 'Resize the runs table', title: 'Drag to resize' });
    this.bindResizer(resizer);
    this.body = h('div', { class: 'rh-body' }, this.sidebar, resizer, h('div', { class: 'rh-main-wrap' }, h('div', { class: 'rh-topbar' }, this.tabs, h('span', { class: 'rh-spacer' }), this.live, this.storeLabel), this.main));
    this.page = h('div', { class: 'rh-page' });
    replaceChildren(root, this.page);
  }

  /** Read the saved state, load the experiments and the runs, start polling. */
  async start() {
    performance.mark('runhistory:start');
    let saved = await this.bridge.readState();
    performance.mark('runhistory:state');
    if (saved.size === 0) {
      try {
        saved = decodeHashState(localStorage.getItem(STORAGE_KEY) ?? '');
      } catch {
        // storage disabled: start fresh
      }
    }
    this.firstVisit = saved.size === 0;
    this.state = stateFromMap(saved);
    const width = Number(localStorage.getItem(WIDTH_KEY));
    if (width > 0) this.root.style.setProperty('--rh-sidebar-width', `${width}px`);
    this.bridge.onDataReloaded(() => void this.refreshAll());
    this.scheduleRender();
    await this.loadExperiments();
    this.startPolling();
  }

  async loadExperiments() {
    try {
      const early = this.bootExperiments;
      this.bootExperiments = null;
      const answer = (early ? await early : null) ?? (await api.experiments());
      this.experiments = answer.experiments;
      this.storeInfo = { hint: answer.hint, store: answer.store };
      this.fatal = null;
    } catch (error) {
      this.fatal = error instanceof Error ? error.message : String(error);
      this.loaded = true;
      this.scheduleRender();
      return;
    }
    this.loaded = true;
    this.lastUpdate = Date.now();
    performance.mark('runhistory:experiments');
    const known = this.experiments.some((e) => e.id === this.state.experiment);
    if (!known && this.experiments.length) {
      const newest = [...this.experiments].sort((a, b) => b.last_activity - a.last_activity)[0];
      // A saved selection belongs to its experiment: drop it when that experiment is gone.
      const stale = this.state.experiment !== null;
      this.state = { ...this.state, experiment: newest.id, ...(stale ? { selected: [], focus: null, expanded: [] } : {}) };
    }
    if (this.state.experiment && this.state.experiment !== this.store.experiment) await this.openExperiment();
    this.scheduleRender();
  }

  /** Show the chosen experiment: first page of runs, expanded parents, then the selection's runs. */
  async openExperiment() {
    this.store.reset(this.state.experiment);
    // The change token as of this load (asked alongside the runs): later checks compare with it.
    this.changeToken = null;
    void this.checkChanges({ poll: false });
    const early = this.bootRuns;
    this.bootRuns = null;
    const prefetched = early ? await early : null;
    await this.store.loadRoots(prefetched && prefetched.experiment === this.state.experiment ? prefetched.answer : null);
    performance.mark('runhistory:runs');
    await Promise.all(this.state.expanded.map((id) => this.store.loadChildren(id)));
    const wanted = [...this.state.selected, ...(this.state.focus ? [this.state.focus] : [])];
    const unknown = new Set(await this.store.ensureRuns(wanted));
    if (unknown.size) {
      this.setState({ selected: this.state.selected.filter((id) => !unknown.has(id)), focus: unknown.has(this.state.focus ?? '') ? null : this.state.focus });
    }
    if (this.state.query.trim() && !this.store.complete()) void this.store.search(this.state.query.trim());
    if (this.firstVisit) {
      this.firstVisit = false;
      if (this.state.selected.length === 0) this.selectNewest();
    }
  }

  /** A first visit shows curves at once: the newest top-level run (a parent shows its children). */
  selectNewest() {
    let newest = null;
    for (const row of this.store.rows.values()) {
      if (row.parent_id !== null && row.parent_id !== undefined) continue;
      if (!newest || Number(row.start_time ?? 0) > Number(newest.start_time ?? 0)) newest = row;
    }
    if (newest) this.setState({ selected: [String(newest.id)], focus: String(newest.id) });
  }

  /** @param {Partial<ViewState>} patch */
  setState(patch) {
    const before = this.state;
    this.state = { ...before, ...patch };
    const s = this.state;
    if (s.experiment !== before.experiment) void this.openExperiment();
    if (s.query !== before.query) {
      clearTimeout(this.searchTimer);
      const query = s.query.trim();
      if (query && !this.store.complete()) this.searchTimer = setTimeout(() => void this.store.search(query), SEARCH_DELAY_MS);
    }
    if (s.selected !== before.selected || s.focus !== before.focus) {
      const missing = [...s.selected, ...(s.focus ? [s.focus] : [])].filter((id) => this.store.scalarNames(id) === null && !this.store.rows.has(id));
      if (missing.length) void this.store.ensureRuns(missing);
    }
    this.persistSoon();
    this.scheduleRender();
  }

  persistSoon() {
    clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => {
      const map = stateToMap(this.state);
      this.bridge.writeState(map);
      try {
        localStorage.setItem(STORAGE_KEY, encodeHashState(map));
      } catch {
        // storage full or disabled: the URL still has it
      }
    }, PERSIST_DELAY_MS);
  }

  /**
   * @param {string[]} ids
   * @param {'only' | 'toggle' | 'range'} mode
   */
  select(ids, mode) {
    let selected;
    if (mode === 'toggle') {
      const current = new Set(this.state.selected);
      selected = [...this.state.selected];
      for (const id of ids) {
        if (current.has(id)) selected = selected.filter((s) => s !== id);
        else selected.push(id);
      }
    } else {
      selected = [...new Set(ids)];
    }
    // A hard limit keeps the URL and the charts bounded: said on screen, never silent.
    this.capped = selected.length > MAX_SELECTED ? { wanted: selected.length, limit: MAX_SELECTED } : null;
    this.setState({ selected: selected.slice(0, MAX_SELECTED) });
  }

  /**
   * @param {string} id
   * @param {boolean} open
   */
  expand(id, open) {
    const expanded = this.state.expanded.filter((e) => e !== id);
    if (open) {
      expanded.push(id);
      const page = this.store.children.get(id);
      if (!page || page.loaded === 0) void this.store.loadChildren(id);
    }
    this.setState({ expanded });
  }

  /**
   * Focus a run and show it in the table: expand its ancestors (loading their children), then
   * scroll to it.
   * @param {string} id
   */
  async reveal(id) {
    this.setState({ focus: id });
    if (!this.store.rows.has(id)) await this.store.ensureRuns([id]);
    const ancestors = [];
    const seen = new Set([id]);
    let parent = this.store.rows.get(id)?.parent_id;
    while (parent !== null && parent !== undefined && !seen.has(String(parent))) {
      const pid = String(parent);
      seen.add(pid);
      ancestors.unshift(pid);
      if (!this.store.rows.has(pid)) await this.store.ensureRuns([pid]);
      parent = this.store.rows.get(pid)?.parent_id;
    }
    const missing = ancestors.filter((a) => !this.state.expanded.includes(a));
    if (missing.length) this.setState({ expanded: [...this.state.expanded, ...missing] });
    await Promise.all(ancestors.filter((a) => !(this.store.children.get(a)?.loaded)).map((a) => this.store.loadChildren(a)));
    if (this.state.focus === id) requestAnimationFrame(() => this.tree.reveal(id));
  }

  /**
   * Switch TensorBoard to its Scalars tab, filtered to these runs and this metric.
   * @param {string} metric
   * @param {string[]} ids
   */
  openInScalars(metric, ids) {
    const runs = ids.map((id) => this.store.pathOf(id)).filter((p) => p.length);
    void import('./lib/scalars-link.js').then(({ scalarsHash }) => this.bridge.navigate(scalarsHash({ runs, tags: [metric] })));
  }

  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render() {
    if (!this.loaded) {
      replaceChildren(this.page, h('div', { class: 'rh-empty rh-empty-page' }, h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading run history…'));
      return;
    }
    if (this.fatal !== null) {
      replaceChildren(this.page, h('div', { class: 'rh-empty rh-empty-page rh-error' },
        h('h2', null, 'The run history could not be loaded'),
        h('p', null, this.fatal),
        h('p', { class: 'rh-muted' }, 'Check the terminal running TensorBoard for details, then retry.'),
        h('button', { class: 'rh-btn', type: 'button', on: { click: () => { this.loaded = false; this.scheduleRender(); void this.loadExperiments(); } } }, 'Retry')));
      return;
    }
    if (this.experiments.length === 0) {
      replaceChildren(this.page, this.noStoreMessage());
      return;
    }
    if (this.page.firstChild !== this.body) replaceChildren(this.page, this.body);
    performance.mark('runhistory:render-begin');
    const s = this.state;
    const experiment = this.experiments.find((e) => e.id === s.experiment) ?? null;
    this.experimentList.update(this.experiments, s.experiment);
    this.charted = this.store.charted(this.state.selected, MAX_SELECTED);
    this.styles = this.styleMemory.assign(this.charted.ids);
    this.tree.styles = this.styles;
    this.tree.update(s, experiment?.status_counts ?? {});
    this.renderTopbar();
    this.renderMain();
    performance.mark('runhistory:render-end');
  }

  noStoreMessage() {
    const hint = this.storeInfo?.hint;
    const found = this.storeInfo?.store?.found;
    return h('div', { class: 'rh-empty rh-empty-page rh-onboarding' },
      h('h2', null, found ? 'No experiments in this run history yet' : 'No run history found'),
      h('p', null, hint ?? 'Log a run and it shows up here; this tab refreshes on its own.'),
      h('p', null, 'Log your first run:'),
      h('pre', { class: 'rh-code' }, 'from tb_runhistory_plugin import Experiment\n\nexp = Experiment("my-experiment")\nrun = exp.start_logging()\nfor step in range(100):\n    run.log("loss", 1 / (step + 1))\nrun.complete()'),
      h('p', { class: 'rh-muted' }, 'Then press TensorBoard\'s reload button, or wait a few seconds.'));
  }

  renderTopbar() {
    const s = this.state;
    const tab = (/** @type {import('./lib/app-state.js').ViewName} */ view, /** @type {string} */ label) => h('button', {
      class: ['rh-tab', s.view === view && 'rh-tab-on'], type: 'button', role: 'tab', 'aria-selected': String(s.view === view), 'data-view': view,
      on: { click: () => this.setState({ view }) },
    }, label);
    const tabsKey = `${s.view}|${s.selected.length}`;
    if (tabsKey !== this.tabsKey) {
      this.tabsKey = tabsKey;
      replaceChildren(this.tabs,
        tab('charts', s.selected.length ? `Charts (${s.selected.length})` : 'Charts'),
        tab('sweep', 'Sweep'),
        tab('compare', 'Compare'),
        tab('details', 'Details'));
    }
    const live = this.isLive();
    const text = live ? `Live · updated ${formatRelativeTime(this.lastUpdate / 1000)}` : this.lastUpdate ? `Updated ${formatRelativeTime(this.lastUpdate / 1000)}` : '';
    if (text !== this.liveText) {
      this.liveText = text;
      this.live.classList.toggle('rh-live-on', live);
      replaceChildren(this.live, live && h('span', { class: 'rh-live-dot', 'aria-hidden': 'true' }), text);
    }
    const store = this.storeInfo?.store;
    const uri = store?.uri ? String(store.uri) : '';
    if (this.storeLabel.textContent !== uri) {
      this.storeLabel.textContent = uri;
      this.storeLabel.title = store?.source ? `Store from ${store.source}` : '';
    }
  }

  renderMain() {
    const s = this.state;
    let view;
    if (!this.charts || !this.sweep || !this.details || !this.compare) {
      view = h('div', { class: 'rh-empty' }, h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading…');
      void this.loadViews();
    } else if (s.view === 'charts') {
      const { ids, parents, shownFor } = this.charted ?? this.store.charted(s.selected, MAX_SELECTED);
      const runs = ids.map((id) => {
        const row = this.store.rows.get(id);
        return {
          id,
          name: String(row?.display_name ?? id),
          color: runColor(this.styles.get(id) ?? 0),
          dash: runDash(this.styles.get(id) ?? 0),
          live: statusKind(row?.status) === 'running',
          metrics: this.store.scalarNames(id),
          parent: shownFor.get(id),
        };
      });
      this.charts.update(runs, { selected: s.selected.length, parents, capped: this.capped }, { xAxis: s.xAxis, smoothing: s.smoothing, logScale: s.logScale, envelope: s.envelope, ignoreOutliers: s.ignoreOutliers, metricFilter: s.metricFilter });
      view = this.charts.el;
    } else if (s.view === 'sweep') {
      const focus = s.focus ? this.store.rows.get(s.focus) : undefined;
      let parent = null;
      if (focus && Number(focus.child_count ?? 0) > 0) parent = String(focus.id);
      else if (focus && focus.parent_id !== null && focus.parent_id !== undefined) parent = String(focus.parent_id);
      const parentRow = parent ? this.store.rows.get(parent) : undefined;
      this.sweep.update({
        parent,
        parentName: String(parentRow?.display_name ?? parent ?? ''),
        focus: s.focus,
        colors: new Map(s.selected.map((id) => [id, runColor(this.styles.get(id) ?? 0)])),
        sweepX: s.sweepX,
        sweepY: s.sweepY,
      });
      view = this.sweep.el;
    } else if (s.view === 'compare') {
      this.compare.update(s.selected);
      view = this.compare.el;
    } else {
      this.details.update(s.focus ?? s.selected[0] ?? null);
      view = this.details.el;
    }
    if (this.main.firstChild !== view) replaceChildren(this.main, view);
  }

  /** Load the charts, sweep and details views (once). */
  loadViews() {
    this.viewsLoading ??= Promise.all([import('./charts.js'), import('./sweep.js'), import('./details.js'), import('./compare.js')]).then(([charts, sweep, details, compare]) => {
      const { select, focus, setState, openInScalars } = this.viewCallbacks;
      this.charts = new charts.ChartsView({
        setState, openInScalars,
        deselect: (id) => this.setState({ selected: this.state.selected.filter((s) => s !== id) }),
        clearSelection: () => this.setState({ selected: [] }),
        openSweep: (parent) => this.setState({ view: 'sweep', focus: parent }),
        selectChildren: (parent, ids) => this.setState({ selected: [...this.state.selected.filter((id) => id !== parent), ...ids].slice(0, MAX_SELECTED) }),
      });
      this.sweep = new sweep.SweepView({ select, focus, setState });
      this.details = new details.DetailsView({ select, focus, openInScalars });
      this.compare = new compare.CompareView({ openDetails: (id) => this.setState({ view: 'details', focus: id }) });
      this.scheduleRender();
    }, (error) => {
      this.viewsLoading = null;
      console.error('runhistory: cannot load a view', error);
    });
    return this.viewsLoading;
  }

  isLive() {
    const counts = this.experiments.find((e) => e.id === this.state.experiment)?.status_counts;
    return Boolean(counts?.Running) || this.store.hasLive() || Boolean(this.details?.isLive());
  }

  startPolling() {
    // TensorBoard keeps this iframe (hidden) while another tab is shown: no polling then, and
    // one catch-up poll when it shows again.
    let shown = true;
    let missed = false;
    new IntersectionObserver((entries) => {
      shown = entries[entries.length - 1].isIntersecting;
      if (shown && missed && this.isLive()) {
        missed = false;
        void this.poll();
      }
    }).observe(this.root);
    setInterval(() => {
      if (document.hidden || !shown) {
        missed = true;
        return;
      }
      if (this.polling) {
        this.renderTopbarSoon();
        return;
      }
      // Nothing running: a cheap check, and a full poll only when runs came, went or changed status.
      void (this.isLive() ? this.poll() : this.checkChanges());
    }, POLL_MS);
  }

  /**
   * Ask the server whether the experiment's runs changed since the last check; poll if so.
   * @param {{poll?: boolean}} [options] poll: false only records the token
   */
  async checkChanges({ poll = true } = {}) {
    const experiment = this.state.experiment;
    if (!experiment || this.fatal !== null) {
      this.renderTopbarSoon();
      return;
    }
    const since = this.changeToken?.experiment === experiment ? this.changeToken.token : null;
    let moved = false;
    this.polling = true;
    try {
      const answer = await api.changes(experiment, since);
      moved = since !== null && answer.token !== since;
      this.changeToken = { experiment, token: answer.token };
    } catch {
      // the next check tries again
    } finally {
      this.polling = false;
      this.renderTopbarSoon();
    }
    if (moved && poll) await this.poll();
  }

  renderTopbarSoon() {
    if (this.loaded && !this.fatal && this.experiments.length) this.renderTopbar();
  }

  /** One live update: counts, the runs shown, the charts and details of running runs. */
  async poll() {
    this.polling = true;
    try {
      await Promise.all([this.refreshExperiments(), this.store.refresh(this.state.expanded)]);
      this.charts?.refreshLive();
      if (this.details?.isLive()) this.details.refresh();
      if (this.state.view === 'sweep') this.sweep?.refresh();
      this.lastUpdate = Date.now();
    } finally {
      this.polling = false;
      this.scheduleRender();
    }
  }

  async refreshExperiments() {
    try {
      const answer = await api.experiments();
      this.experiments = answer.experiments;
      this.storeInfo = { hint: answer.hint, store: answer.store };
      if (!this.state.experiment && this.experiments.length) await this.loadExperiments();
    } catch {
      // keep showing the last answer; the next poll tries again
    }
  }

  /** TensorBoard's reload button (or its auto-reload): fetch everything shown again. */
  async refreshAll() {
    this.reloads++;
    if (this.fatal !== null || this.experiments.length === 0) {
      await this.loadExperiments();
      return;
    }
    await Promise.all([this.refreshExperiments(), this.store.refresh(this.state.expanded)]);
    this.charts?.refresh();
    this.details?.refresh();
    this.sweep?.refresh();
    this.compare?.refresh();
    this.lastUpdate = Date.now();
    this.scheduleRender();
  }

  /** Theme changed: charts pick their colours from CSS at build time. */
  redraw() {
    this.charts?.redraw();
    this.sweep?.render();
  }

  /** @param {HTMLElement} handle */
  bindResizer(handle) {
    handle.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      const move = (/** @type {PointerEvent} */ e) => {
        const width = Math.max(280, Math.min(window.innerWidth - 320, e.clientX));
        this.root.style.setProperty('--rh-sidebar-width', `${width}px`);
      };
      const up = (/** @type {PointerEvent} */ e) => {
        handle.removeEventListener('pointermove', move);
        handle.removeEventListener('pointerup', up);
        try {
          localStorage.setItem(WIDTH_KEY, String(Math.max(280, e.clientX)));
        } catch {
          // fine: the width just is not remembered
        }
      };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', up);
    });
  }
}
