// @ts-check
/**
 * One overlay chart: one metric, several runs, drawn by uPlot.
 *
 * Per run: the raw line (faint while smoothing is on), the smoothed line (TensorBoard's debiased
 * EMA) and the min/max envelope of the server's buckets as a band, so spikes that downsampling
 * folded into a bucket still show. Drag to zoom on x: the zoomed range is fetched again at full
 * resolution; double-click or "Reset" zooms out. The hover tooltip lists each run's nearest
 * point. The legend below names the runs in their colours.
 *
 * For tests and benchmarks the card element carries `runhistoryChart` (`snapshot()`: the drawn
 * data as plain arrays) and `data-draw-ms` / `data-paint-ms` (data arrival to drawn / painted).
 */

import uPlot from './vendor/uPlot.esm.js';
import { api, downloadUrl } from './api.js';
import { buildChartData, tooltipRows } from './lib/chart-data.js';
import { withAlpha } from './lib/colors.js';
import { drawExtremes, renderClipLabels, snapToMark } from './chart-marks.js';
import { afterNextPaint, h, middleName, replaceChildren } from './lib/dom.js';
import { formatCompact, formatDuration, formatNumber, formatTimestamp } from './lib/format.js';

/** @typedef {import('./lib/chart-data.js').ChartData} ChartData */
/** @typedef {import('./lib/buckets.js').XAxisMode} XAxisMode */

/**
 * A run as a chart shows it.
 * @typedef {Object} ChartRun
 * @property {string} id
 * @property {string} name
 * @property {string} color
 * @property {number[]} [dash] line dash pattern (px on, off), with the colour telling many runs apart
 * @property {boolean} live still running: its data is fetched again while polling
 */

/**
 * @typedef {Object} ChartOptions
 * @property {XAxisMode} xAxis
 * @property {number} smoothing
 * @property {boolean} logScale
 * @property {boolean} envelope shade the min/max band of downsampled buckets
 * @property {boolean} ignoreOutliers the lines alone set the y range; clipped extremes are marked at the edge
 */

/**
 * @typedef {Object} ChartCallbacks
 * @property {(metric: string, runIds: string[]) => void} openInScalars
 */

const HEIGHT = 240; // px, the plot and its axes
const MIN_POINTS = 100; // buckets requested at least
const MAX_POINTS = 2000; // buckets requested at most (about one per pixel column)
const TOOLTIP_ROWS = 8; // runs listed, the nearest the cursor
const LEGEND_ITEMS = 6; // runs named under a chart; more are counted

/**
 * @param {string} name CSS custom property
 * @param {string} fallback
 */
function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * Axis tick labels for an x mode.
 * @param {XAxisMode} mode
 * @returns {((u: uPlot, splits: number[]) => string[]) | undefined} undefined: uPlot's time labels
 */
function xValues(mode) {
  if (mode === 'wall_time') return undefined;
  if (mode === 'relative') return (_u, splits) => splits.map((v) => formatDuration(v * 1000));
  return (_u, splits) => splits.map((v) => formatCompact(v));
}

/**
 * The text of an x value in the tooltip.
 * @param {XAxisMode} mode
 * @param {number} x
 */
function formatX(mode, x) {
  if (mode === 'wall_time') return formatTimestamp(x);
  if (mode === 'relative') return formatDuration(x * 1000);
  return `step ${Math.round(x).toLocaleString('en-US')}`;
}

/**
 * A cursor marker only for the lines people read (not the envelope edges).
 * @returns {HTMLElement}
 */
function cursorPoint() {
  const pt = document.createElement('div');
  pt.style.width = '7px';
  pt.style.height = '7px';
  pt.style.marginLeft = '-3.5px';
  pt.style.marginTop = '-3.5px';
  return pt;
}

export class ChartCard {
  /**
   * @param {string} metric
   * @param {ChartCallbacks} callbacks
   */
  constructor(metric, callbacks) {
    this.metric = metric;
    this.callbacks = callbacks;
    /** @type {ChartRun[]} */
    this.runs = [];
    /** @type {ChartOptions} */
    this.options = { xAxis: 'step', smoothing: 0.6, logScale: false, envelope: true, ignoreOutliers: false };
    /** @type {any} the last /compare answer */
    this.response = null;
    /** @type {ChartData | null} */
    this.chart = null;
    /** @type {uPlot | null} */
    this.plot = null;
    /** @type {[number, number] | null} zoomed x range */
    this.zoom = null;
    /** @type {AbortController | null} */
    this.inflight = null;
    this.visible = false;
    this.stale = true; // the data does not match runs/xAxis/zoom yet
    this.dataArrivedAt = 0;
    this.destroyed = false;
    /** @type {string} the layout the current uPlot was built for */
    this.plotLayout = '';
    /** @type {string} what the last update showed */
    this.updateKey = '';
    /** @type {Set<number>} data indices of the extremes marked in the last draw (the tooltip snaps to them) */
    this.marked = new Set();

    this.title = h('div', { class: 'rh-card-title', title: metric }, metric);
    this.status = h('span', { class: 'rh-card-status' });
    this.resetButton = h('button', { class: 'rh-btn rh-btn-small', type: 'button', hidden: true, title: 'Zoom out (or double-click the chart)', on: { click: () => this.resetZoom() } }, 'Reset zoom');
    this.downloads = h('div', { class: 'rh-menu-body' });
    this.menu = h('details', { class: 'rh-menu' }, h('summary', { class: 'rh-btn rh-btn-small', title: 'Download the data of this chart' }, 'Download'), this.downloads);
    this.plotBox = h('div', { class: 'rh-plot', style: { height: `${HEIGHT}px` } });
    this.tooltip = h('div', { class: 'rh-tooltip', hidden: true });
    this.clipMarks = h('div', { class: 'rh-clip-marks', 'aria-label': 'Values outside the y range' });
    this.legend = h('div', { class: 'rh-legend' });
    this.message = h('div', { class: 'rh-card-message', hidden: true });
    this.el = h(
      'section',
      { class: 'rh-card rh-chart-card', 'data-metric': metric },
      h(
        'header',
        { class: 'rh-card-header' },
        this.title,
        this.status,
        h('span', { class: 'rh-spacer' }),
        this.resetButton,
        h('button', {
          class: 'rh-btn rh-btn-small',
          type: 'button',
          title: "Open TensorBoard's Scalars tab filtered to these runs and this metric",
          on: { click: () => this.callbacks.openInScalars(this.metric, this.runs.map((r) => r.id)) },
        }, 'Open in Scalars'),
        this.menu,
      ),
      h('div', { class: 'rh-plot-wrap' }, this.plotBox, this.clipMarks, this.tooltip, this.message),
      this.legend,
    );
    /** @type {any} */ (this.el).runhistoryChart = this;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plotBox);
  }

  /**
   * New runs or options. Data is fetched again only when what it depends on changed.
   * @param {ChartRun[]} runs
   * @param {ChartOptions} options
   */
  update(runs, options) {
    // The app renders on every state change (a keystroke in the runs filter too): redraw only
    // when something this chart shows changed.
    const key = JSON.stringify([options, runs.map((r) => [r.id, r.name, r.color, r.dash, r.live])]);
    if (key === this.updateKey) return;
    this.updateKey = key;
    const ids = runs.map((r) => r.id).join(',');
    const needFetch = ids !== this.runs.map((r) => r.id).join(',') || options.xAxis !== this.options.xAxis;
    if (options.xAxis !== this.options.xAxis) this.zoom = null;
    this.runs = runs;
    this.options = { ...options };
    this.renderDownloads();
    if (needFetch) {
      this.stale = true;
      if (this.visible) void this.load();
    } else if (this.response) {
      this.draw();
    } else {
      this.renderLegend();
    }
  }

  /** @param {boolean} visible */
  setVisible(visible) {
    this.visible = visible;
    if (visible && this.stale) void this.load();
  }

  /** Fetch again if a run on this chart is still running (live polling). */
  refreshLive() {
    if (this.runs.some((r) => r.live)) {
      this.stale = true;
      if (this.visible) void this.load({ quiet: true });
    }
  }

  /** Fetch again whatever is shown (TensorBoard's reload button). */
  refresh() {
    this.stale = true;
    if (this.visible) void this.load({ quiet: true });
  }

  pointsWanted() {
    const width = this.plotBox.clientWidth || 600;
    return Math.max(MIN_POINTS, Math.min(MAX_POINTS, Math.round(width)));
  }

  /** @param {{quiet?: boolean}} [options] quiet: keep showing the old data while loading */
  async load({ quiet = false } = {}) {
    if (this.destroyed) return;
    this.stale = false;
    this.inflight?.abort();
    if (this.runs.length === 0) {
      this.response = null;
      this.draw();
      return;
    }
    const controller = new AbortController();
    this.inflight = controller;
    if (!quiet || !this.response) this.setStatus('Loading…');
    try {
      const response = await api.compare(
        this.runs.map((r) => r.id),
        this.metric,
        { x: this.options.xAxis, points: this.pointsWanted(), xmin: this.zoom?.[0], xmax: this.zoom?.[1] },
        { signal: controller.signal },
      );
      if (controller.signal.aborted || this.destroyed) return;
      this.dataArrivedAt = performance.now();
      this.response = response;
      this.setStatus('');
      this.showMessage(null);
      this.draw();
    } catch (error) {
      if (controller.signal.aborted) return;
      this.setStatus('');
      this.showMessage(`Could not load ${this.metric}: ${error instanceof Error ? error.message : String(error)}`, true);
    } finally {
      if (this.inflight === controller) this.inflight = null;
    }
  }

  /** @param {string} text */
  setStatus(text) {
    this.status.textContent = text;
  }

  /**
   * @param {string | null} text
   * @param {boolean} [retry]
   */
  showMessage(text, retry = false) {
    this.message.hidden = text === null;
    replaceChildren(
      this.message,
      text,
      retry && h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.load() } }, 'Retry'),
    );
  }

  /** Build the chart data from the last answer and draw it (a new uPlot when the layout changed). */
  draw() {
    const order = new Map(this.runs.map((r, i) => [r.id, i]));
    const series = (this.response?.series ?? []).filter((/** @type {any} */ s) => order.has(s.run));
    this.chart = buildChartData(series, this.options);
    const chart = this.chart;
    const empty = chart.runs.length === 0 || chart.data[0].length === 0;
    if (empty) {
      this.destroyPlot();
      const why = chart.errors.length ? chart.errors[0].error : 'No points yet.';
      this.showMessage(this.runs.length ? why : 'Select runs to plot them.');
      this.renderLegend();
      return;
    }
    this.showMessage(chart.hiddenNonPositive ? `${chart.hiddenNonPositive} values ≤ 0 are not shown on the log scale.` : null);
    const layoutKey = this.layoutKey();
    if (this.plot && this.plotLayout === layoutKey) {
      this.plot.setData(/** @type {any} */ (chart.data), this.zoom === null);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    } else {
      this.destroyPlot();
      this.plotLayout = layoutKey;
      this.plot = new uPlot(this.plotOptions(chart), /** @type {any} */ (chart.data), this.plotBox);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    }
    this.resetButton.hidden = this.zoom === null;
    this.renderLegend();
  }

  /** What a uPlot instance is built for; anything else is a setData. */
  layoutKey() {
    const chart = /** @type {ChartData} */ (this.chart);
    const o = this.options;
    const dashes = new Map(this.runs.map((r) => [r.id, `${r.color} ${(r.dash ?? []).join(' ')}`]));
    const cols = chart.runs.map((r) => `${r.run}:${r.min >= 0}:${r.band}:${dashes.get(r.run)}`).join(',');
    return `${cols}|${o.xAxis}|${o.logScale}|${o.smoothing > 0}|${o.envelope}|${o.ignoreOutliers}|${document.documentElement.dataset.theme ?? ''}`;
  }

  /**
   * @param {ChartData} chart
   * @returns {uPlot.Options}
   */
  plotOptions(chart) {
    const colorOf = new Map(this.runs.map((r) => [r.id, r.color]));
    const dashOf = new Map(this.runs.map((r) => [r.id, r.dash?.length ? r.dash : undefined]));
    const smoothing = this.options.smoothing > 0;
    const text = cssVar('--rh-text-secondary', '#616161');
    const grid = cssVar('--rh-grid', 'rgba(0,0,0,0.08)');
    const font = `11px ${cssVar('--rh-font', 'Roboto, sans-serif')}`;
    /** @type {uPlot.Series[]} */
    const series = [{ label: this.options.xAxis }];
    /** @type {uPlot.Band[]} */
    const bands = [];
    /** @type {Set<number>} */
    const marked = new Set();
    for (const r of chart.runs) {
      const color = colorOf.get(r.run) ?? '#888';
      series[r.raw] = {
        label: `${r.run} raw`,
        stroke: smoothing ? withAlpha(color, 0.28) : color,
        width: smoothing ? 1 : 1.5,
        dash: smoothing ? undefined : dashOf.get(r.run),
        points: { show: false },
        spanGaps: true,
      };
      series[r.smooth] = { label: r.run, stroke: color, width: 1.5, dash: dashOf.get(r.run), points: { show: false }, spanGaps: true, show: smoothing };
      marked.add(smoothing ? r.smooth : r.raw);
      if (r.min >= 0) {
        // By default the y range covers every bucket's min and max, so a spike folded into a
        // bucket is on screen at any zoom; "Ignore outliers" lets the lines set the range, and
        // drawExtremes marks what is clipped.
        const auto = !this.options.ignoreOutliers;
        series[r.min] = { label: `${r.run} min`, stroke: 'transparent', width: 0, points: { show: false }, spanGaps: true, auto };
        series[r.max] = { label: `${r.run} max`, stroke: 'transparent', width: 0, points: { show: false }, spanGaps: true, auto };
        if (r.band) bands.push({ series: [r.max, r.min], fill: withAlpha(color, 0.14) });
      }
    }
    const mode = this.options.xAxis;
    return {
      width: Math.max(200, this.plotBox.clientWidth || 600),
      height: HEIGHT,
      padding: [10, 12, 0, 4],
      legend: { show: false },
      scales: {
        x: { time: mode === 'wall_time' },
        y: this.options.logScale ? { distr: 3, log: 10 } : { distr: 1 },
      },
      axes: [
        { stroke: text, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values: xValues(mode), space: 70 },
        { stroke: text, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values: (_u, splits) => splits.map((v) => formatNumber(v)), size: 56 },
      ],
      series,
      bands,
      cursor: {
        drag: { x: true, y: false, setScale: true },
        points: { show: /** @type {any} */ ((/** @type {uPlot} */ _u, /** @type {number} */ si) => (marked.has(si) ? cursorPoint() : undefined)) },
        bind: {
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      hooks: {
        setCursor: [(u) => this.onCursor(u)],
        setSelect: [(u) => this.onSelect(u)],
        draw: [(u) => renderClipLabels(this.clipMarks, u, drawExtremes(u, this.chart, this.runs, this.marked)), () => this.onDrawn()],
      },
    };
  }

  onDrawn() {
    if (!this.dataArrivedAt) return;
    const arrived = this.dataArrivedAt;
    this.dataArrivedAt = 0;
    this.el.dataset.drawMs = (performance.now() - arrived).toFixed(1);
    afterNextPaint((paintedAt) => {
      this.el.dataset.paintMs = (paintedAt - arrived).toFixed(1);
      this.el.dataset.paints = String(Number(this.el.dataset.paints ?? 0) + 1);
    });
  }

  /** @param {uPlot} u */
  onSelect(u) {
    if (u.select.width < 2) return;
    const min = u.posToVal(u.select.left, 'x');
    const max = u.posToVal(u.select.left + u.select.width, 'x');
    if (!(max > min)) return;
    this.zoom = [min, max];
    this.resetButton.hidden = false;
    // uPlot zooms the current data at once; the range is then fetched at full resolution.
    this.stale = true;
    void this.load({ quiet: true });
  }

  resetZoom() {
    if (this.zoom === null) {
      if (this.plot && this.chart) this.plot.setData(/** @type {any} */ (this.chart.data), true);
      return;
    }
    this.zoom = null;
    this.resetButton.hidden = true;
    this.stale = true;
    void this.load({ quiet: true });
  }

  /** @param {uPlot} u */
  onCursor(u) {
    const chart = this.chart;
    if (u.cursor.idx === null || u.cursor.idx === undefined || !chart || u.cursor.left === undefined || u.cursor.left < 0) {
      this.tooltip.hidden = true;
      this.renderLegend(null);
      return;
    }
    const idx = snapToMark(u, chart, this.marked, u.cursor.idx, u.cursor.left);
    const smoothing = this.options.smoothing > 0;
    const near = u.cursor.top !== undefined && u.cursor.top >= 0 ? u.posToVal(u.cursor.top, 'y') : null;
    const all = tooltipRows(chart, idx, { smoothing });
    this.renderLegend(new Map(all.rows.map((row) => [row.run, row.value])));
    // Many runs: the ones nearest the cursor, so the tooltip stays inside the chart.
    const { rows, hidden } = all.rows.length > TOOLTIP_ROWS ? tooltipRows(chart, idx, { smoothing, near, limit: TOOLTIP_ROWS }) : all;
    if (rows.length === 0) {
      this.tooltip.hidden = true;
      return;
    }
    const names = new Map(this.runs.map((r) => [r.id, r]));
    const buckets = rows.some((row) => row.min !== null);
    const mode = this.options.xAxis;
    const num = (/** @type {number | null} */ v, /** @type {string} */ extra = '') => h('td', { class: ['rh-num', extra] }, v === null ? '' : formatNumber(v));
    replaceChildren(
      this.tooltip,
      h('div', { class: 'rh-tooltip-x' }, formatX(mode, chart.data[0][idx])),
      h(
        'table',
        null,
        h('thead', null, h('tr', null, h('th'), h('th'),
          smoothing && h('th', { class: 'rh-num' }, 'Smoothed'),
          h('th', { class: 'rh-num' }, buckets ? 'Mean' : 'Value'),
          buckets && h('th', { class: 'rh-num' }, 'Min'),
          buckets && h('th', { class: 'rh-num' }, 'Max'),
          h('th', { class: 'rh-num' }, mode === 'step' ? 'Step' : ''))),
        h('tbody', null, rows.map((row) => h(
          'tr',
          null,
          h('td', null, h('span', { class: 'rh-swatch', style: { background: names.get(row.run)?.color ?? '#888' } })),
          h('td', null, middleName(names.get(row.run)?.name ?? row.run, 'rh-tooltip-name')),
          smoothing && num(row.value),
          num(row.mean, smoothing ? 'rh-muted' : ''),
          buckets && num(row.min, 'rh-muted'),
          buckets && num(row.max, 'rh-muted'),
          h('td', { class: 'rh-num rh-muted' }, mode === 'step' ? formatCompact(row.x) : ''),
        ))),
      ),
      hidden > 0 && h('div', { class: 'rh-muted' }, `${hidden} more runs farther from the cursor`),
    );
    this.tooltip.hidden = false;
    const box = this.plotBox.getBoundingClientRect();
    const left = u.cursor.left + u.bbox.left / devicePixelRatio;
    const top = (u.cursor.top ?? 0) + u.bbox.top / devicePixelRatio;
    const tipWidth = this.tooltip.offsetWidth;
    const x = left + 16 + tipWidth > box.width ? left - tipWidth - 16 : left + 16;
    this.tooltip.style.left = `${Math.max(0, Math.min(x, box.width - tipWidth))}px`;
    this.tooltip.style.top = `${Math.max(0, Math.min(top + 12, HEIGHT - this.tooltip.offsetHeight))}px`;
  }

  /** @param {Map<string, number> | null} [hover] values at the cursor; otherwise last values */
  renderLegend(hover = null) {
    const chart = this.chart;
    const last = new Map();
    if (chart) {
      for (const r of chart.runs) {
        const col = chart.data[this.options.smoothing > 0 ? r.smooth : r.raw];
        for (let i = col.length - 1; i >= 0; i--) {
          if (col[i] !== null && col[i] !== undefined) {
            last.set(r.run, col[i]);
            break;
          }
        }
      }
    }
    const errors = new Map((chart?.errors ?? []).map((e) => [e.run, e.error]));
    const info = new Map((chart?.runs ?? []).map((r) => [r.run, r]));
    // Many runs: the legend keeps to a line or two; the tooltip names the runs at the cursor.
    const listed = this.runs.slice(0, LEGEND_ITEMS);
    const more = this.runs.length - listed.length;
    replaceChildren(this.legend, listed.map((run) => {
      const value = hover?.get(run.id) ?? last.get(run.id);
      const r = info.get(run.id);
      const title = errors.get(run.id) ?? (r ? `${r.total.toLocaleString('en-US')} points${r.downsampled ? `, drawn as ${r.points.toLocaleString('en-US')} buckets (band: min/max)` : ''}` : '');
      return h(
        'span',
        { class: ['rh-legend-item', errors.has(run.id) && 'rh-legend-missing'], title },
        h('span', { class: 'rh-swatch', style: { background: run.color } }),
        middleName(run.name, 'rh-legend-name'),
        value !== undefined && h('span', { class: 'rh-num' }, formatNumber(value)),
        run.live && h('span', { class: 'rh-live-dot', title: 'Running: updates live' }),
      );
    }), more > 0 && h('span', { class: 'rh-muted rh-legend-more' }, `+${more} more runs (hover the chart for the nearest)`));
  }

  renderDownloads() {
    replaceChildren(
      this.downloads,
      h('div', { class: 'rh-menu-note' }, `Full data of ${this.metric} (every point, not the downsampled view):`),
      this.runs.map((run) => h(
        'div',
        { class: 'rh-menu-row' },
        h('span', { class: 'rh-swatch', style: { background: run.color } }),
        h('span', { class: 'rh-menu-name' }, run.name),
        h('a', { href: downloadUrl(run.id, this.metric, 'csv'), download: '' }, 'CSV'),
        h('a', { href: downloadUrl(run.id, this.metric, 'json'), download: '' }, 'JSON'),
      )),
    );
  }

  resize() {
    if (!this.plot) return;
    const width = this.plotBox.clientWidth;
    if (width > 0 && Math.abs(width - this.plot.width) > 1) this.plot.setSize({ width, height: HEIGHT });
  }

  /** The drawn data as plain arrays (tests and benchmarks read it). */
  snapshot() {
    const chart = this.chart;
    if (!chart || !this.plot) return null;
    const names = new Map(this.runs.map((r) => [r.id, r.name]));
    const plain = (/** @type {ArrayLike<number | null | undefined>} */ c) => Array.from(c, (v) => (v === undefined ? null : v));
    return {
      metric: this.metric,
      xAxis: this.options.xAxis,
      xs: plain(chart.data[0]),
      zoom: this.zoom,
      scale: { min: this.plot.scales.x.min, max: this.plot.scales.x.max },
      runs: chart.runs.map((r) => ({
        id: r.run,
        name: names.get(r.run) ?? r.run,
        raw: plain(chart.data[r.raw]),
        smooth: plain(chart.data[r.smooth]),
        min: r.min >= 0 ? plain(chart.data[r.min]) : null,
        max: r.max >= 0 ? plain(chart.data[r.max]) : null,
        total: r.total,
        downsampled: r.downsampled,
      })),
      errors: chart.errors,
    };
  }

  destroyPlot() {
    this.plot?.destroy();
    this.plot = null;
    this.plotLayout = '';
  }

  destroy() {
    this.destroyed = true;
    this.inflight?.abort();
    this.resizeObserver.disconnect();
    this.destroyPlot();
    this.el.remove();
  }
}
