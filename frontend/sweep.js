// @ts-check
/**
 * The Sweep view of a parent run: its children's hyperparameters against their final metrics,
 * as a scatter (pick any two numeric columns: alpha vs mse) and as a sortable table. Clicking
 * a point or a row selects that child (Ctrl/⌘-click adds it), like clicking it in the runs table.
 */

import uPlot from './vendor/uPlot.esm.js';
import { api } from './api.js';
import { h, replaceChildren } from './lib/dom.js';
import { formatNumber, formatNumberLong, statusKind, statusLabel } from './lib/format.js';
import { bestRow, chooseAxes, numericCell, paddedRange, scatterPoints, sortSweepRows, suggestLog } from './lib/sweep-data.js';
import { toCSV } from './lib/csv.js';
import { withAlpha } from './lib/colors.js';

/** @typedef {import('./lib/sweep-data.js').Sweep} Sweep */

/**
 * @typedef {Object} SweepCallbacks
 * @property {(ids: string[], mode: 'only' | 'toggle') => void} select
 * @property {(id: string) => void} focus
 * @property {(patch: {sweepX?: string | null, sweepY?: string | null}) => void} setState
 */

const HEIGHT = 300; // px
const PICK_RADIUS = 14; // px: a click farther than this from every point selects nothing

/**
 * @param {string} name
 * @param {string} fallback
 */
function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export class SweepView {
  /** @param {SweepCallbacks} callbacks */
  constructor(callbacks) {
    this.callbacks = callbacks;
    /** @type {string | null} */
    this.parent = null;
    /** @type {Sweep | null} */
    this.sweep = null;
    /** @type {string | null} */
    this.error = null;
    this.loading = false;
    /** @type {{x: string | null, y: string | null}} */
    this.axes = { x: null, y: null };
    /** @type {{x: boolean | null, y: boolean}} null: automatic */
    this.log = { x: null, y: false };
    this.sort = { key: '', descending: false };
    /** @type {Map<string, string>} selected run id -> colour */
    this.colors = new Map();
    /** @type {string | null} */
    this.focus = null;
    /** @type {uPlot | null} */
    this.plot = null;
    /** @type {ReturnType<typeof scatterPoints> | null} */
    this.points = null;
    this.generation = 0;
    /** @type {string} what the last update showed (the app renders on every state change) */
    this.updateKey = '';

    this.heading = h('div', { class: 'rh-view-heading' });
    this.controls = h('div', { class: 'rh-toolbar' });
    this.plotBox = h('div', { class: 'rh-plot rh-scatter', style: { height: `${HEIGHT}px` } });
    this.tooltip = h('div', { class: 'rh-tooltip', hidden: true });
    this.table = h('div', { class: 'rh-table-wrap' });
    this.message = h('div', { class: 'rh-empty', hidden: true });
    this.body = h('div', { class: 'rh-sweep-body' },
      this.controls,
      h('section', { class: 'rh-card' }, h('div', { class: 'rh-plot-wrap' }, this.plotBox, this.tooltip)),
      this.table);
    this.el = h('div', { class: 'rh-sweep' }, this.heading, this.message, this.body);
    new ResizeObserver(() => {
      if (this.plot && this.plotBox.clientWidth > 0) this.plot.setSize({ width: this.plotBox.clientWidth, height: HEIGHT });
    }).observe(this.plotBox);
  }

  /**
   * @param {{parent: string | null, parentName: string, focus: string | null, colors: Map<string, string>, sweepX: string | null, sweepY: string | null}} view
   */
  update(view) {
    const key = JSON.stringify([view.parent, view.parentName, view.focus, [...view.colors], view.sweepX, view.sweepY]);
    if (key === this.updateKey) return;
    this.updateKey = key;
    this.focus = view.focus;
    this.colors = view.colors;
    const changedParent = view.parent !== this.parent;
    this.parent = view.parent;
    this.parentName = view.parentName;
    this.requested = { x: view.sweepX, y: view.sweepY };
    if (changedParent) {
      this.sweep = null;
      this.error = null;
      this.log = { x: null, y: false };
      this.sort = { key: '', descending: false };
      if (view.parent) void this.load();
    }
    this.render();
  }

  async load() {
    const parent = this.parent;
    if (!parent) return;
    const generation = ++this.generation;
    this.loading = true;
    this.render();
    try {
      const sweep = await api.sweep(parent);
      if (generation !== this.generation) return;
      this.sweep = sweep;
      this.error = null;
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.loading = false;
    this.render();
  }

  refresh() {
    if (this.parent) void this.load();
  }

  render() {
    const sweep = this.sweep;
    replaceChildren(
      this.heading,
      h('h2', null, 'Sweep'),
      this.parent && h('span', { class: 'rh-muted' }, 'children of '),
      this.parent && h('strong', null, this.parentName ?? this.parent),
      sweep && h('span', { class: 'rh-muted' }, ` · ${sweep.total.toLocaleString('en-US')} child runs${sweep.runs.length < sweep.total ? ` (first ${sweep.runs.length})` : ''}`),
      h('span', { class: 'rh-spacer' }),
      sweep && h('button', { class: 'rh-btn rh-btn-small', type: 'button', title: 'Download this table as CSV', on: { click: () => this.downloadCsv() } }, 'CSV'),
    );
    let message = null;
    if (!this.parent) {
      message = [h('strong', null, 'Sweeps compare the children of a parent run.'), ' Click a run that has children (▸) in the runs table, or one of its children.'];
    } else if (this.error) {
      message = [h('strong', null, 'Could not load the sweep. '), this.error, ' ', h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.load() } }, 'Retry')];
    } else if (!sweep) {
      message = [h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading the sweep…'];
    } else if (sweep.runs.length === 0) {
      message = 'This run has no child runs yet. Start them with run.child_run(name).';
    }
    this.message.hidden = message === null;
    replaceChildren(this.message, message);
    this.body.hidden = message !== null;
    if (message !== null || !sweep) {
      this.destroyPlot();
      return;
    }
    this.axes = chooseAxes(sweep.columns, this.requested?.x ?? null, this.requested?.y ?? null, sweep.values);
    this.renderControls(sweep);
    this.renderPlot(sweep);
    this.renderTable(sweep);
  }

  /** @param {Sweep} sweep */
  renderControls(sweep) {
    const numeric = sweep.columns.filter((c) => c.numeric);
    /** @param {'x' | 'y'} axis */
    const select = (axis) => h(
      'select',
      {
        class: 'rh-input', 'aria-label': `${axis.toUpperCase()} axis`,
        on: { change: (e) => this.callbacks.setState(axis === 'x' ? { sweepX: /** @type {HTMLSelectElement} */ (e.target).value } : { sweepY: /** @type {HTMLSelectElement} */ (e.target).value }) },
      },
      numeric.map((c) => h('option', { value: c.key, props: { selected: c.key === this.axes[axis] } }, `${c.name} (${c.kind === 'metric' ? 'final' : c.source})`)),
    );
    const logX = this.logX(sweep);
    replaceChildren(
      this.controls,
      numeric.length < 2
        ? h('span', { class: 'rh-muted' }, 'The scatter needs two numeric columns: log hyperparameters with run.add_properties({...}) and metrics with run.log(...).')
        : [
          h('label', { class: 'rh-control' }, h('span', null, 'X'), select('x')),
          h('label', { class: 'rh-control' }, h('input', { type: 'checkbox', props: { checked: logX }, on: { change: (e) => { this.log.x = /** @type {HTMLInputElement} */ (e.target).checked; this.render(); } } }), h('span', null, 'log')),
          h('label', { class: 'rh-control' }, h('span', null, 'Y'), select('y')),
          h('label', { class: 'rh-control' }, h('input', { type: 'checkbox', props: { checked: this.log.y }, on: { change: (e) => { this.log.y = /** @type {HTMLInputElement} */ (e.target).checked; this.render(); } } }), h('span', null, 'log')),
        ],
    );
  }

  /** @param {Sweep} sweep */
  logX(sweep) {
    if (this.log.x !== null) return this.log.x;
    if (!this.axes.x) return false;
    const ci = sweep.columns.findIndex((c) => c.key === this.axes.x);
    const values = sweep.values.map((row) => numericCell(row[ci])).filter((v) => v !== null);
    return suggestLog(/** @type {number[]} */ (values));
  }

  /** @param {Sweep} sweep */
  renderPlot(sweep) {
    const { x, y } = this.axes;
    if (!x || !y) {
      this.destroyPlot();
      return;
    }
    const points = scatterPoints(sweep, x, y);
    this.points = points;
    const logX = this.logX(sweep) && Array.from(points.xs).every((v) => v > 0);
    const logY = this.log.y && Array.from(points.ys).every((v) => v > 0);
    const selected = Array.from(points.runIndex, (r, i) => (this.colors.has(sweep.runs[r].id) ? points.ys[i] : null));
    const accent = cssVar('--rh-accent', '#f57c00');
    const blue = cssVar('--rh-blue', '#1976d2');
    const text = cssVar('--rh-text-secondary', '#616161');
    const grid = cssVar('--rh-grid', 'rgba(0,0,0,0.08)');
    const font = `11px ${cssVar('--rh-font', 'Roboto, sans-serif')}`;
    const xName = sweep.columns.find((c) => c.key === x)?.name ?? x;
    const yName = sweep.columns.find((c) => c.key === y)?.name ?? y;
    /** @type {uPlot.Options} */
    const options = {
      width: Math.max(200, this.plotBox.clientWidth || 600),
      height: HEIGHT,
      padding: [12, 16, 0, 4],
      legend: { show: false },
      // Padded ranges: a point at the largest (or smallest) value is drawn whole, and uPlot
      // draws every point sharing the extreme x (with an exact range it stops at the first).
      scales: {
        x: { time: false, ...(logX ? { distr: 3, log: 10 } : {}), range: (_u, min, max) => paddedRange(min, max, { log: logX }) },
        y: { ...(logY ? { distr: 3, log: 10 } : {}), range: (_u, min, max) => paddedRange(min, max, { log: logY }) },
      },
      axes: [
        { label: xName, labelFont: font, labelSize: 18, stroke: text, font, grid: { stroke: grid }, ticks: { stroke: grid }, values: (_u, s) => s.map((v) => formatNumber(v)) },
        { label: yName, labelFont: font, labelSize: 18, stroke: text, font, grid: { stroke: grid }, ticks: { stroke: grid }, values: (_u, s) => s.map((v) => formatNumber(v)), size: 56 },
      ],
      series: [
        {},
        { label: yName, stroke: blue, paths: () => null, points: { show: true, size: 9, width: 1, fill: withAlpha(blue, 0.55) } },
        { label: 'selected', stroke: accent, paths: () => null, points: { show: true, size: 13, width: 2, fill: withAlpha(accent, 0.35) } },
      ],
      cursor: {
        drag: { x: false, y: false, setScale: false },
        points: { show: false },
        dataIdx: (u, si, closest) => (si === 1 ? this.nearest(u) ?? closest : closest),
      },
      hooks: { setCursor: [(u) => this.onCursor(u)] },
    };
    this.destroyPlot();
    this.plot = new uPlot(options, [points.xs, points.ys, selected], this.plotBox);
    const plot = this.plot;
    // For tests: the drawn points, and where each is on the plot area (CSS pixels).
    /** @type {any} */ (this.plotBox).runhistorySweep = {
      points: () => ({ xs: Array.from(points.xs), ys: Array.from(points.ys), runs: Array.from(points.runIndex, (r) => sweep.runs[r].id) }),
      position: (/** @type {number} */ i) => ({ left: plot.valToPos(points.xs[i], 'x'), top: plot.valToPos(points.ys[i], 'y') }),
    };
    this.plot.over.addEventListener('click', (event) => {
      const plot = /** @type {uPlot} */ (this.plot);
      const i = this.nearest(plot, PICK_RADIUS);
      if (i === null) return;
      const id = sweep.runs[points.runIndex[i]].id;
      this.callbacks.select([id], event.ctrlKey || event.metaKey ? 'toggle' : 'only');
      if (!(event.ctrlKey || event.metaKey)) this.callbacks.focus(id);
    });
  }

  /**
   * The point nearest the cursor, in pixels.
   * @param {uPlot} u
   * @param {number} [radius] ignore points farther than this
   * @returns {number | null}
   */
  nearest(u, radius = Infinity) {
    const points = this.points;
    const { left, top } = u.cursor;
    if (!points || left === undefined || top === undefined || left < 0) return null;
    let best = null;
    let bestDistance = radius * radius;
    for (let i = 0; i < points.xs.length; i++) {
      const dx = u.valToPos(points.xs[i], 'x') - left;
      const dy = u.valToPos(points.ys[i], 'y') - top;
      const d = dx * dx + dy * dy;
      if (d <= bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    return best;
  }

  /** @param {uPlot} u */
  onCursor(u) {
    const sweep = this.sweep;
    const i = this.nearest(u, PICK_RADIUS);
    u.over.style.cursor = i === null ? 'default' : 'pointer';
    if (i === null || !sweep || !this.points) {
      this.tooltip.hidden = true;
      return;
    }
    const run = sweep.runs[this.points.runIndex[i]];
    const xName = sweep.columns.find((c) => c.key === this.axes.x)?.name ?? '';
    const yName = sweep.columns.find((c) => c.key === this.axes.y)?.name ?? '';
    replaceChildren(
      this.tooltip,
      h('div', { class: 'rh-tooltip-x' }, run.display_name),
      h('div', null, `${xName}: ${formatNumber(this.points.xs[i])}`),
      h('div', null, `${yName}: ${formatNumber(this.points.ys[i])}`),
      h('div', { class: 'rh-muted' }, 'Click to select'),
    );
    this.tooltip.hidden = false;
    const px = u.valToPos(this.points.xs[i], 'x') + u.bbox.left / devicePixelRatio;
    const py = u.valToPos(this.points.ys[i], 'y') + u.bbox.top / devicePixelRatio;
    const width = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${px + 14 + width > this.plotBox.clientWidth ? px - width - 14 : px + 14}px`;
    this.tooltip.style.top = `${Math.max(0, py - 10)}px`;
  }

  /** @param {Sweep} sweep */
  renderTable(sweep) {
    const order = this.sort.key ? sortSweepRows(sweep, this.sort.key, this.sort.descending) : sweep.runs.map((_, i) => i);
    const best = new Map(sweep.columns.filter((c) => c.kind === 'metric' && c.numeric).map((c) => [c.key, bestRow(sweep, c.key)]));
    /** @param {string} key @param {string} label @param {string} [title] @param {string} [note] */
    const head = (key, label, title, note) => {
      const active = this.sort.key === key;
      return h('th', {
        class: ['rh-sortable', active && 'rh-sorted'], title: title ?? `Sort by ${label}`, 'aria-sort': active ? (this.sort.descending ? 'descending' : 'ascending') : 'none',
        on: { click: () => { this.sort = { key, descending: active ? !this.sort.descending : false }; this.render(); } },
      }, label, active ? (this.sort.descending ? ' ▼' : ' ▲') : '', note && h('span', { class: 'rh-col-note' }, note));
    };
    const table = h(
      'table',
      { class: 'rh-table rh-sweep-table' },
      h('thead', null, h('tr', null,
        h('th', null, ''),
        head('name', 'Run'),
        head('status', 'Status'),
        sweep.columns.map((c) => head(c.key, c.name, `${c.kind === 'metric' ? 'Final value of the metric' : `Hyperparameter (${c.source})`} ${c.name}; click to sort`, c.kind === 'metric' ? 'final' : c.source)))),
      h('tbody', null, order.map((r) => {
        const run = sweep.runs[r];
        const color = this.colors.get(run.id);
        return h(
          'tr',
          {
            class: ['rh-clickable', color && 'rh-row-selected', this.focus === run.id && 'rh-row-focus'], 'data-id': run.id,
            on: {
              click: (e) => {
                this.callbacks.select([run.id], e.ctrlKey || e.metaKey ? 'toggle' : 'only');
                if (!(e.ctrlKey || e.metaKey)) this.callbacks.focus(run.id);
              },
            },
          },
          h('td', null, color ? h('span', { class: 'rh-swatch', style: { background: color } }) : ''),
          h('td', { class: 'rh-name' }, run.display_name),
          h('td', null, h('span', { class: `rh-status rh-status-${statusKind(run.status)}` }, statusLabel(run.status))),
          sweep.columns.map((c, ci) => {
            const cell = sweep.values[r][ci];
            const number = typeof cell === 'number' || (c.numeric && numericCell(cell) !== null);
            return h('td', {
              class: [number && 'rh-num', c.kind === 'metric' && 'rh-metric-cell', best.get(c.key) === r && 'rh-best'],
              title: best.get(c.key) === r ? 'Best of the sweep' : formatNumberLong(/** @type {any} */ (cell)),
            }, cell === null || cell === undefined ? '' : number ? formatNumber(/** @type {any} */ (cell)) : String(cell));
          }),
        );
      })),
    );
    replaceChildren(this.table, table);
  }

  downloadCsv() {
    const sweep = this.sweep;
    if (!sweep) return;
    const header = ['id', 'name', 'status', ...sweep.columns.map((c) => c.key)];
    const rows = sweep.runs.map((run, r) => [run.id, run.display_name, run.status, ...sweep.values[r]]);
    const url = URL.createObjectURL(new Blob([toCSV(header, rows)], { type: 'text/csv' }));
    const a = h('a', { href: url, download: 'sweep.csv' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  destroyPlot() {
    this.plot?.destroy();
    this.plot = null;
  }
}
