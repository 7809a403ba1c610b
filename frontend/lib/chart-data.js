// @ts-check
/**
 * From the server's downsampled series of several runs to the columns one uPlot overlay chart
 * draws: one shared x axis; per run a raw line, its smoothed line (TensorBoard's debiased EMA)
 * and, when the series was downsampled, the min/max envelope of its buckets (so a single spike
 * among millions of points still shows). Pure: chart.js only adds styling.
 */

import { alignSeries, columnsToSeries } from './buckets.js';
import { smooth } from './smoothing.js';

/** @typedef {import('./buckets.js').XAxisMode} XAxisMode */
/** @typedef {import('./buckets.js').BucketColumns} BucketColumns */
/** @typedef {import('./buckets.js').Column} Column */

/**
 * One run's series as `/compare` returns it (`error` instead of buckets when the run lacks it).
 * @typedef {Object} RunSeries
 * @property {string} run
 * @property {BucketColumns} [buckets]
 * @property {number | null} [origin] earliest wall time of the whole series (relative time's zero)
 * @property {number} [total] points in the whole series
 * @property {boolean} [downsampled]
 * @property {string} [error]
 */

/**
 * Where one run's columns are in the chart data (indices into `data`; -1: absent).
 * @typedef {Object} RunColumns
 * @property {string} run
 * @property {number} raw
 * @property {number} smooth
 * @property {number} min
 * @property {number} max
 * @property {boolean} band shade the min/max band (min and max are kept for the tooltip and the spike marks either way)
 * @property {number} points buckets drawn
 * @property {number} total points the buckets stand for
 * @property {boolean} downsampled
 */

/**
 * @typedef {Object} ChartData
 * @property {[Float64Array, ...Column[]]} data uPlot AlignedData
 * @property {RunColumns[]} runs one entry per input run that had data, in input order
 * @property {Array<{run: string, error: string}>} errors
 * @property {number} hiddenNonPositive raw values left out on a log scale (<= 0)
 */

/**
 * @param {Column} column
 * @returns {{column: Column, hidden: number}}
 */
function maskNonPositive(column) {
  let hidden = 0;
  /** @type {Array<number | null>} */
  const out = new Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (v !== null && v !== undefined && v <= 0) {
      out[i] = null;
      hidden++;
    } else {
      out[i] = v ?? null;
    }
  }
  return { column: hidden ? out : column, hidden };
}

/**
 * Build one chart's data.
 * @param {ReadonlyArray<RunSeries>} seriesList
 * @param {{xAxis?: XAxisMode, smoothing?: number, envelope?: boolean, logScale?: boolean}} [options]
 * @returns {ChartData}
 */
export function buildChartData(seriesList, { xAxis = 'step', smoothing = 0, envelope = true, logScale = false } = {}) {
  /** @type {Array<{run: string, error: string}>} */
  const errors = [];
  /** @type {Array<{item: RunSeries, series: ReturnType<typeof columnsToSeries>}>} */
  const usable = [];
  for (const item of seriesList) {
    if (item.error || !item.buckets) {
      errors.push({ run: item.run, error: item.error ?? 'no data' });
      continue;
    }
    usable.push({ item, series: columnsToSeries(item.buckets, { xAxis, origin: item.origin ?? null }) });
  }
  const aligned = alignSeries(usable.map((u) => u.series));
  /** @type {[Float64Array, ...Column[]]} */
  const data = [aligned.xs];
  /** @type {RunColumns[]} */
  const runs = [];
  let hiddenNonPositive = 0;
  /** @param {Column} column @param {boolean} [count] count the values a log scale hides */
  const push = (column, count = false) => {
    let col = column;
    if (logScale) {
      const masked = maskNonPositive(col);
      col = masked.column;
      if (count) hiddenNonPositive += masked.hidden;
    }
    data.push(col);
    return data.length - 1;
  };
  usable.forEach(({ item, series }, i) => {
    const ys = aligned.ys[i];
    const counts = item.buckets?.count;
    let downsampled = Boolean(item.downsampled);
    if (item.downsampled === undefined && counts) {
      for (let k = 0; k < counts.length; k++) if (counts[k] > 1) downsampled = true;
    }
    const raw = push(ys, true);
    const smoothed = push(/** @type {Column} */ (smooth(ys, smoothing)));
    let min = -1;
    let max = -1;
    if (downsampled && aligned.mins[i] && aligned.maxs[i]) {
      min = push(/** @type {Column} */ (aligned.mins[i]));
      max = push(/** @type {Column} */ (aligned.maxs[i]));
    }
    runs.push({
      run: item.run,
      raw,
      smooth: smoothed,
      min,
      max,
      band: envelope && min >= 0,
      points: series[0].length,
      total: item.total ?? series[0].length,
      downsampled,
    });
  });
  return { data, runs, errors, hiddenNonPositive };
}

/**
 * The index of the nearest non-null value of `column` to `index` (searching both ways), or -1.
 * Overlays put runs on a union x axis, so a run has no value at most of another run's xs; the
 * tooltip shows each run's nearest point, like TensorBoard.
 * @param {ArrayLike<number | null | undefined>} column
 * @param {number} index
 * @param {number} [limit] how far to look each way
 * @returns {number}
 */
export function nearestIndex(column, index, limit = 1000) {
  const n = column.length;
  if (index < 0 || index >= n) return -1;
  for (let d = 0; d <= limit; d++) {
    const a = index - d;
    const b = index + d;
    if (a < 0 && b >= n) break;
    if (a >= 0 && column[a] !== null && column[a] !== undefined) return a;
    if (b < n && column[b] !== null && column[b] !== undefined) return b;
  }
  return -1;
}

/**
 * One run's line in the hover tooltip.
 * @typedef {Object} TooltipRow
 * @property {string} run
 * @property {number} value the drawn value (smoothed when smoothing is on)
 * @property {number} mean the bucket's mean (the raw value when not downsampled)
 * @property {number | null} min the bucket's min (null when not downsampled)
 * @property {number | null} max
 * @property {number} x
 */

/**
 * The tooltip's rows at data index `index`: each run's nearest bucket; when there are more than
 * `limit`, the runs whose value is nearest `near` (the cursor's y value), then sorted by value,
 * highest first. Returns the rows shown and how many runs were left out.
 * @param {ChartData} chart
 * @param {number} index
 * @param {{smoothing: boolean, near?: number | null, limit?: number}} options
 * @returns {{rows: TooltipRow[], hidden: number}}
 */
export function tooltipRows(chart, index, { smoothing, near = null, limit = Infinity }) {
  const xs = chart.data[0];
  /** @type {TooltipRow[]} */
  const rows = [];
  for (const r of chart.runs) {
    const raw = chart.data[r.raw];
    const j = nearestIndex(raw, index, 200);
    if (j < 0) continue;
    const mean = /** @type {number} */ (raw[j]);
    const at = (/** @type {number} */ col) => (col >= 0 ? chart.data[col][j] ?? null : null);
    const value = smoothing ? /** @type {number} */ (at(r.smooth) ?? mean) : mean;
    rows.push({ run: r.run, value, mean, min: at(r.min), max: at(r.max), x: xs[j] });
  }
  let shown = rows;
  if (rows.length > limit) {
    const target = near !== null && Number.isFinite(near) ? near : null;
    shown = target === null ? rows : [...rows].sort((a, b) => Math.abs(a.value - target) - Math.abs(b.value - target));
    shown = shown.slice(0, limit);
  }
  shown = [...shown].sort((a, b) => b.value - a.value);
  return { rows: shown, hidden: rows.length - shown.length };
}
