// @ts-check
/**
 * The Charts view: a toolbar (metric filter, smoothing, x axis, log scale, envelope) and one
 * overlay chart per scalar metric of the selected runs. Charts fetch their data when scrolled
 * into view, and only the charts with a running run are fetched again while polling.
 */

import { metricMatcher } from './lib/app-state.js';
import { h, middleName, replaceChildren } from './lib/dom.js';
import { MAX_SMOOTHING_WEIGHT } from './lib/smoothing.js';

/** @typedef {import('./chart.js').ChartRun} ChartRun */
/** @typedef {import('./chart.js').ChartOptions} ChartOptions */

/**
 * A selected run as the charts need it.
 * @typedef {ChartRun & {metrics: string[] | null, parent?: string}} SelectedRun metrics: scalar names, null while
 *   unknown; parent: the selected parent it is shown for
 */

/**
 * @typedef {Object} ChartsCallbacks
 * @property {(patch: Partial<import('./lib/app-state.js').ViewState>) => void} setState
 * @property {(metric: string, runIds: string[]) => void} openInScalars
 * @property {(id: string) => void} deselect
 * @property {() => void} clearSelection
 * @property {(parent: string) => void} openSweep show a parent's sweep view
 * @property {(parent: string, ids: string[]) => void} selectChildren make a parent's children the selection
 */

/**
 * A selected parent without scalars of its own, charted through its children.
 * @typedef {Object} ParentShown
 * @property {string} id
 * @property {string} name
 * @property {number} children
 */

const MAX_CHIPS = 3; // chips shown before "+N more" (up to five are all shown)
const X_LABELS = /** @type {const} */ ([['step', 'Step'], ['relative', 'Relative'], ['wall_time', 'Wall']]);

export class ChartsView {
  /** @param {ChartsCallbacks} callbacks */
  constructor(callbacks) {
    this.callbacks = callbacks;
    /** @type {string} what the last update showed (the app renders on every state change) */
    this.updateKey = '';
    /** @type {typeof import('./chart.js').ChartCard | null} loaded with the first chart */
    this.ChartCard = null;
    /** @type {Promise<void> | null} */
    this.chartModule = null;
    /** @type {Map<string, import('./chart.js').ChartCard>} */
    this.cards = new Map();
    /** @type {SelectedRun[]} */
    this.runs = [];
    /** @type {ParentShown[]} */
    this.parents = [];
    /** @type {{wanted: number, limit: number} | null} */
    this.capped = null;
    this.chipsOpen = false;
    this.selectedCount = 0;
    /** @type {ChartOptions & {metricFilter: string}} */
    this.options = { xAxis: 'step', smoothing: 0.6, logScale: false, envelope: true, ignoreOutliers: false, metricFilter: '' };

    this.metricFilter = /** @type {HTMLInputElement} */ (h('input', {
      class: 'rh-input',
      type: 'search',
      placeholder: 'Filter metrics (regex)',
      'aria-label': 'Filter metrics',
      on: { input: () => this.callbacks.setState({ metricFilter: this.metricFilter.value }) },
    }));
    this.smoothingRange = /** @type {HTMLInputElement} */ (h('input', {
      type: 'range', min: '0', max: String(MAX_SMOOTHING_WEIGHT), step: '0.001', 'aria-label': 'Smoothing',
      on: { input: () => this.setSmoothing(Number(this.smoothingRange.value)) },
    }));
    this.smoothingNumber = /** @type {HTMLInputElement} */ (h('input', {
      class: 'rh-input rh-input-number', type: 'number', min: '0', max: String(MAX_SMOOTHING_WEIGHT), step: '0.01', 'aria-label': 'Smoothing value',
      on: { change: () => this.setSmoothing(Number(this.smoothingNumber.value)) },
    }));
    this.xButtons = X_LABELS.map(([mode, label]) => h('button', {
      class: 'rh-seg', type: 'button', 'data-x': mode,
      on: { click: () => this.callbacks.setState({ xAxis: mode }) },
    }, label));
    this.logBox = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', on: { change: () => this.callbacks.setState({ logScale: this.logBox.checked }) } }));
    this.bandBox = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', on: { change: () => this.callbacks.setState({ envelope: this.bandBox.checked }) } }));
    this.outlierBox = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', on: { change: () => this.callbacks.setState({ ignoreOutliers: this.outlierBox.checked }) } }));
    this.selectionBar = h('div', { class: 'rh-selection' });
    this.parentNotes = h('div', { class: 'rh-parent-notes' });
    this.grid = h('div', { class: 'rh-chart-grid' });
    this.empty = h('div', { class: 'rh-empty', hidden: true });
    this.el = h(
      'div',
      { class: 'rh-charts' },
      h(
        'div',
        { class: 'rh-toolbar' },
        this.metricFilter,
        h('label', { class: 'rh-control', title: "TensorBoard's smoothing: a debiased exponential moving average" }, h('span', null, 'Smoothing'), this.smoothingRange, this.smoothingNumber),
        h('div', { class: 'rh-control rh-segmented', role: 'group', 'aria-label': 'Horizontal axis' }, h('span', null, 'X'), this.xButtons),
        h('label', { class: 'rh-control' }, this.logBox, h('span', null, 'Log scale')),
        h('label', { class: 'rh-control', title: 'Shade the min/max of the points each drawn bucket stands for, so spikes show' }, this.bandBox, h('span', null, 'Min/max band')),
        h('label', { class: 'rh-control', title: 'Let the lines set the y range; extremes outside it are marked at the edge with their values' }, this.outlierBox, h('span', null, 'Ignore outliers')),
      ),
      this.selectionBar,
      this.parentNotes,
      this.empty,
      this.grid,
    );
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const metric = /** @type {HTMLElement} */ (entry.target).dataset.metric ?? '';
        this.cards.get(metric)?.setVisible(entry.isIntersecting);
      }
    }, { rootMargin: '300px 0px' });
  }

  /** @param {number} value */
  setSmoothing(value) {
    const weight = Number.isFinite(value) ? Math.min(MAX_SMOOTHING_WEIGHT, Math.max(0, value)) : 0;
    this.callbacks.setState({ smoothing: Math.round(weight * 1000) / 1000 });
  }

  /**
   * Show these runs with these options.
   * @param {SelectedRun[]} runs
   * @param {{selected: number, parents: ParentShown[], capped: {wanted: number, limit: number} | null}} context how
   *   many runs are selected; selected parents shown through their children; a selection cut to the limit
   * @param {ChartOptions & {metricFilter: string}} options
   */
  update(runs, context, options) {
    const key = JSON.stringify([options, runs, context, this.ChartCard !== null]);
    if (key === this.updateKey) return;
    this.updateKey = key;
    this.runs = runs;
    this.parents = context.parents;
    this.capped = context.capped;
    this.selectedCount = context.selected;
    this.options = options;
    if (document.activeElement !== this.metricFilter) this.metricFilter.value = options.metricFilter;
    this.smoothingRange.value = String(options.smoothing);
    if (document.activeElement !== this.smoothingNumber) this.smoothingNumber.value = String(options.smoothing);
    for (const button of this.xButtons) button.classList.toggle('rh-seg-on', button.dataset.x === options.xAxis);
    this.logBox.checked = options.logScale;
    this.bandBox.checked = options.envelope;
    this.outlierBox.checked = options.ignoreOutliers;
    this.renderSelection();

    const match = metricMatcher(options.metricFilter);
    /** @type {Map<string, SelectedRun[]>} */
    const byMetric = new Map();
    for (const run of runs) {
      for (const metric of run.metrics ?? []) {
        if (!match(metric)) continue;
        const list = byMetric.get(metric) ?? [];
        list.push(run);
        byMetric.set(metric, list);
      }
    }
    const metrics = [...byMetric.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    for (const [metric, card] of this.cards) {
      if (!byMetric.has(metric)) {
        this.observer.unobserve(card.el);
        card.destroy();
        this.cards.delete(metric);
      }
    }
    const chartOptions = { xAxis: options.xAxis, smoothing: options.smoothing, logScale: options.logScale, envelope: options.envelope, ignoreOutliers: options.ignoreOutliers };
    const ChartCard = this.ChartCard;
    if (metrics.length && !ChartCard) {
      this.loadCharts();
      this.renderEmpty(runs, 0, true);
      return;
    }
    metrics.forEach((metric, i) => {
      let card = this.cards.get(metric);
      if (!card && ChartCard) {
        card = new ChartCard(metric, { openInScalars: this.callbacks.openInScalars });
        this.cards.set(metric, card);
        this.observer.observe(card.el);
      }
      if (!card) return;
      const chartRuns = /** @type {ChartRun[]} */ ((byMetric.get(metric) ?? []).map(({ id, name, color, dash, live }) => ({ id, name, color, dash, live })));
      card.update(chartRuns, chartOptions);
      if (this.grid.children[i] !== card.el) this.grid.insertBefore(card.el, this.grid.children[i] ?? null);
    });
    this.renderEmpty(runs, metrics.length);
  }

  renderParents() {
    replaceChildren(this.parentNotes, this.parents.map((p) => h(
      'div',
      { class: 'rh-parent-note' },
      h('strong', null, p.name),
      ` logs no scalars itself: showing its ${p.children.toLocaleString('en-US')} child runs. `,
      h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.callbacks.openSweep(p.id) } }, 'Open its sweep view'),
      ' ',
      h('button', {
        class: 'rh-btn rh-btn-small rh-btn-flat', type: 'button', title: 'Select the children themselves (to remove some of them)',
        on: { click: () => this.callbacks.selectChildren(p.id, this.runs.filter((r) => r.parent === p.id).map((r) => r.id)) },
      }, 'Select the children'),
    )));
  }

  renderSelection() {
    this.renderParents();
    const chip = (/** @type {string} */ id, /** @type {string} */ name, /** @type {string | null} */ color, /** @type {string} */ label) => h(
      'span',
      { class: ['rh-chip', 'rh-chip-run', color === null && 'rh-chip-parent'], title: label },
      color !== null && h('span', { class: 'rh-swatch', style: { background: color } }),
      middleName(name, 'rh-chip-text', label),
      h('button', { class: 'rh-chip-x', type: 'button', 'aria-label': `Remove ${name} from the charts`, on: { click: () => this.callbacks.deselect(id) } }, '×'),
    );
    const chips = [
      ...this.parents.map((p) => chip(p.id, p.name, null, `${p.name}: its ${p.children} child runs`)),
      ...this.runs.filter((r) => !r.parent).map((r) => chip(r.id, r.name, r.color, r.name)),
    ];
    const capped = this.capped;
    if (chips.length === 0) {
      replaceChildren(this.selectionBar);
      return;
    }
    // Many runs: one line of chips and "+N more", so the charts stay on screen.
    const shown = this.chipsOpen || chips.length <= MAX_CHIPS + 2 ? chips : chips.slice(0, MAX_CHIPS);
    const toggle = (/** @type {boolean} */ open) => {
      this.chipsOpen = open;
      this.renderSelection();
    };
    this.selectionBar.classList.toggle('rh-selection-collapsed', !this.chipsOpen);
    replaceChildren(
      this.selectionBar,
      h('span', { class: 'rh-muted' }, this.selectedCount === this.runs.length ? `${this.selectedCount} selected:` : `${this.selectedCount} selected, ${this.runs.length} charted:`),
      shown,
      chips.length > shown.length && h('button', { class: 'rh-chip rh-chip-more', type: 'button', title: 'Show every selected run', on: { click: () => toggle(true) } }, `+${chips.length - shown.length} more`),
      this.chipsOpen && chips.length > MAX_CHIPS + 2 && h('button', { class: 'rh-btn rh-btn-small rh-btn-flat', type: 'button', on: { click: () => toggle(false) } }, 'Show fewer'),
      h('button', { class: 'rh-btn rh-btn-small rh-btn-flat', type: 'button', on: { click: () => this.callbacks.clearSelection() } }, 'Clear'),
      capped && h('span', { class: 'rh-cap-note', role: 'status' }, `${capped.wanted.toLocaleString('en-US')} runs were selected; only the first ${capped.limit.toLocaleString('en-US')} are kept and overlaid.`),
    );
  }

  /** Load the plotting code (uPlot and the chart card), then draw. */
  loadCharts() {
    this.chartModule ??= import('./chart.js').then((module) => {
      this.ChartCard = module.ChartCard;
      this.update(this.runs, { selected: this.selectedCount, parents: this.parents, capped: this.capped }, this.options);
    }, (error) => {
      this.chartModule = null;
      replaceChildren(this.empty, `Could not load the charts: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /**
   * @param {SelectedRun[]} runs
   * @param {number} shown charts shown
   * @param {boolean} [loading] the plotting code is still loading
   */
  renderEmpty(runs, shown, loading = false) {
    let message = null;
    if (loading) {
      message = [h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading charts…'];
    } else if (runs.length === 0) {
      message = [h('strong', null, 'No runs selected.'), ' Click a run in the table to chart its metrics; Ctrl/⌘-click or tick the boxes to overlay several; Shift-click selects a range.'];
    } else if (shown === 0 && runs.some((r) => r.metrics === null)) {
      message = 'Loading the metrics of the selected runs…';
    } else if (shown === 0 && this.options.metricFilter) {
      message = [`No metric matches “${this.options.metricFilter}”. `, h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.callbacks.setState({ metricFilter: '' }) } }, 'Clear the metric filter')];
    } else if (shown === 0) {
      message = 'The selected runs have no scalar metrics yet. Log some with run.log("loss", value); running runs appear here as they log.';
    }
    this.empty.hidden = message === null;
    replaceChildren(this.empty, message);
  }

  /** Live polling: fetch again the charts that show a running run. */
  refreshLive() {
    for (const card of this.cards.values()) card.refreshLive();
  }

  /** TensorBoard's reload: fetch every chart again. */
  refresh() {
    for (const card of this.cards.values()) card.refresh();
  }

  /** Colours or theme changed: rebuild the plots. */
  redraw() {
    this.updateKey = '';
    for (const card of this.cards.values()) {
      card.destroyPlot();
      if (card.response) card.draw();
    }
  }
}
