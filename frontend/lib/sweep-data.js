// @ts-check
/**
 * The sweep view's data: a parent's children as a matrix of hyperparameters and final metrics
 * (the server's `/sweep` answer), the scatter of one column against another, and table sorting.
 */

import { parseNumber } from './format.js';
import { compareValues } from './tree.js';

/**
 * @typedef {Object} SweepColumn
 * @property {string} key "source:name", e.g. "property:alpha", "scalar:val/mse"
 * @property {string} name
 * @property {string} source property | tag | scalar | row
 * @property {'param' | 'metric'} kind
 * @property {boolean} numeric
 */

/**
 * @typedef {Object} Sweep
 * @property {{id: string, display_name: string, status: string}} parent
 * @property {Array<{id: string, display_name: string, status: string}>} runs
 * @property {SweepColumn[]} columns
 * @property {unknown[][]} values one row per run, one cell per column
 * @property {number} total children of the parent (runs may hold fewer: one page)
 */

/**
 * @param {unknown} v
 * @returns {number | null} finite numbers only
 */
export function numericCell(v) {
  const x = parseNumber(v);
  return x !== null && Number.isFinite(x) ? x : null;
}

/**
 * The columns to plot by default: the parameter that varies most (a constant batch size says
 * nothing) against a metric, validation metrics first; without metrics, two numeric columns.
 * @param {ReadonlyArray<SweepColumn>} columns
 * @param {ReadonlyArray<ReadonlyArray<unknown>>} [values] the rows, to see which parameters vary
 * @returns {{x: string | null, y: string | null}}
 */
export function defaultAxes(columns, values = []) {
  const distinct = (/** @type {number} */ ci) => new Set(values.map((row) => numericCell(row[ci])).filter((v) => v !== null)).size;
  const numeric = columns.map((c, ci) => ({ c, n: values.length ? distinct(ci) : 2 })).filter(({ c }) => c.numeric);
  // Stable sorts: most distinct values first (ties keep column order: properties before tags).
  const params = numeric.filter(({ c }) => c.kind === 'param').sort((a, b) => Math.min(b.n, 2) - Math.min(a.n, 2) || b.n - a.n);
  const metrics = numeric.filter(({ c }) => c.kind === 'metric').sort((a, b) => Number(/val|valid|test|eval/i.test(b.c.name)) - Number(/val|valid|test|eval/i.test(a.c.name)));
  const x = params[0]?.c ?? numeric[0]?.c ?? null;
  const y = metrics[0]?.c ?? numeric.find(({ c }) => c !== x)?.c ?? null;
  return { x: x?.key ?? null, y: y?.key ?? null };
}

/**
 * Pick valid axis keys: the requested ones if they are numeric columns, else the defaults.
 * @param {ReadonlyArray<SweepColumn>} columns
 * @param {string | null} x
 * @param {string | null} y
 * @param {ReadonlyArray<ReadonlyArray<unknown>>} [values]
 * @returns {{x: string | null, y: string | null}}
 */
export function chooseAxes(columns, x, y, values = []) {
  const numeric = new Set(columns.filter((c) => c.numeric).map((c) => c.key));
  const d = defaultAxes(columns, values);
  return { x: x && numeric.has(x) ? x : d.x, y: y && numeric.has(y) ? y : d.y };
}

/**
 * Points (x ascending, as uPlot needs) of column `xKey` against `yKey`; runs lacking either value
 * are left out. `runIndex[i]` is the row of point i in `sweep.runs`.
 * @param {Sweep} sweep
 * @param {string} xKey
 * @param {string} yKey
 * @returns {{xs: Float64Array, ys: Float64Array, runIndex: Uint32Array}}
 */
export function scatterPoints(sweep, xKey, yKey) {
  const xi = sweep.columns.findIndex((c) => c.key === xKey);
  const yi = sweep.columns.findIndex((c) => c.key === yKey);
  /** @type {Array<[number, number, number]>} */
  const points = [];
  if (xi >= 0 && yi >= 0) {
    sweep.values.forEach((row, r) => {
      const x = numericCell(row[xi]);
      const y = numericCell(row[yi]);
      if (x !== null && y !== null) points.push([x, y, r]);
    });
  }
  points.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  return {
    xs: Float64Array.from(points, (p) => p[0]),
    ys: Float64Array.from(points, (p) => p[1]),
    runIndex: Uint32Array.from(points, (p) => p[2]),
  };
}

/**
 * Whether a log axis suits these values: all positive and spanning at least two decades
 * (learning rates, regularisation strengths).
 * @param {ArrayLike<number>} values
 * @returns {boolean}
 */
export function suggestLog(values) {
  if (values.length < 2) return false;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > 0)) return false;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi / lo >= 100;
}

/**
 * Row order of the sweep table sorted by a column ("name", "status" or a column key); stable,
 * missing values last. Numeric-looking text (tag values) sorts as numbers.
 * @param {Sweep} sweep
 * @param {string} key
 * @param {boolean} descending
 * @returns {number[]} row indices
 */
export function sortSweepRows(sweep, key, descending) {
  const ci = sweep.columns.findIndex((c) => c.key === key);
  /** @param {number} r @returns {number | string | null} */
  const value = (r) => {
    if (key === 'name') return sweep.runs[r].display_name;
    if (key === 'status') return sweep.runs[r].status;
    if (ci < 0) return null;
    const cell = sweep.values[r][ci];
    const x = numericCell(cell);
    if (x !== null) return x;
    return cell === null || cell === undefined ? null : String(cell);
  };
  const rows = sweep.runs.map((_, r) => ({ r, v: value(r) }));
  rows.sort((a, b) => compareValues(a.v, b.v, descending) || a.r - b.r);
  return rows.map((row) => row.r);
}

/**
 * The best row of a metric column (lowest for loss/error-like names, else highest), or -1.
 * @param {Sweep} sweep
 * @param {string} key
 * @returns {number}
 */
export function bestRow(sweep, key) {
  const ci = sweep.columns.findIndex((c) => c.key === key);
  if (ci < 0) return -1;
  const lowerIsBetter = /loss|err|mse|mae|rmse|perplex|ppl|nll|dist|wer|cer|time|latency/i.test(sweep.columns[ci].name);
  let best = -1;
  let bestValue = 0;
  sweep.values.forEach((row, r) => {
    const v = numericCell(row[ci]);
    if (v === null) return;
    if (best < 0 || (lowerIsBetter ? v < bestValue : v > bestValue)) {
      best = r;
      bestValue = v;
    }
  });
  return best;
}

/**
 * An axis range around `[min, max]` with room for the points' radius at both ends (a fraction
 * of the span, in log space on a log axis); a single value gets a span of its own.
 * @param {number | null} min
 * @param {number | null} max
 * @param {{log?: boolean, fraction?: number}} [options]
 * @returns {[number, number]}
 */
export function paddedRange(min, max, { log = false, fraction = 0.06 } = {}) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (log && min > 0 && max > 0) {
    const [lo, hi] = paddedRange(Math.log10(min), Math.log10(max), { fraction });
    return [10 ** lo, 10 ** hi];
  }
  if (min === max) {
    const half = Math.abs(min) * 0.1 || 1;
    return [min - half, max + half];
  }
  const pad = (max - min) * fraction;
  return [min - pad, max + pad];
}
