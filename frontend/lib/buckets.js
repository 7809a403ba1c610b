// @ts-check
/**
 * Client helpers for server-downsampled series, shaped for uPlot.
 *
 * The server cuts each series into buckets `{step, wall_time, min, max, first, last, mean,
 * count}` (raw points `{step, wall_time, value}` are accepted too). `bucketsToSeries` turns one
 * run's buckets into uPlot-style columns `[xs, ys, mins, maxs]`; `alignSeries` puts several runs
 * on one shared x axis for an overlay chart, and `toUPlotData` lays that out as uPlot's
 * `AlignedData`.
 *
 * uPlot's data model: xs ascending (a Float64Array here); y columns where null is a gap. uPlot
 * cannot scale NaN or Infinity, so non-finite y values become gaps; the raw buckets still hold
 * them for tooltips. A column without gaps is a Float64Array (no boxed numbers: the common case
 * of runs that share their steps stays cheap); a column with gaps is a plain array with nulls.
 * Read columns by index and `.length` only, and both kinds work, in uPlot and in `smooth`.
 */

import { parseNumber } from './format.js';

/**
 * @typedef {'step' | 'wall_time' | 'relative'} XAxisMode
 * step: the bucket's step; wall_time: seconds since the epoch (uPlot's time scale unit);
 * relative: seconds since the run's first point (or `origin`).
 */
/** @typedef {'mean' | 'last' | 'first' | 'min' | 'max'} BucketValue */

/**
 * One downsampled bucket (or one raw point, with `value`). Numbers may arrive as the strings
 * "NaN", "Infinity", "-Infinity" from TensorBoard's JSON responder.
 * @typedef {Object} Bucket
 * @property {number} [step]
 * @property {number} [x] used when `step` is absent
 * @property {number | string | null} [wall_time] seconds since the epoch
 * @property {number | string | null} [min]
 * @property {number | string | null} [max]
 * @property {number | string | null} [first]
 * @property {number | string | null} [last]
 * @property {number | string | null} [mean]
 * @property {number | string | null} [value] a raw point's value, the fallback for every field
 * @property {number} [count] points in the bucket; 0 means an empty bucket (a gap)
 */

/** @typedef {Float64Array | Array<number | null>} Column Float64Array when it has no gaps */
/** @typedef {Float64Array | ReadonlyArray<number | null | undefined>} ColumnLike */
/** @typedef {[Float64Array, Column, Column, Column]} Series [xs, ys, mins, maxs] */
/** @typedef {[ColumnLike, ColumnLike, ColumnLike?, ColumnLike?]} SeriesLike */

/**
 * Several runs on one x axis. `ys[i]`, `mins[i]`, `maxs[i]` belong to the i-th input series;
 * `mins[i]`/`maxs[i]` are null when that series had no band columns.
 * @typedef {Object} AlignedSeries
 * @property {Float64Array} xs ascending, unique
 * @property {Column[]} ys
 * @property {Array<Column | null>} mins
 * @property {Array<Column | null>} maxs
 */

/** uPlot's `AlignedData` as produced here: `[xs, ...columns]`. */
/** @typedef {[Float64Array, ...Column[]]} UPlotData */

export const X_AXIS_MODES = /** @type {ReadonlyArray<XAxisMode>} */ (
  Object.freeze(['step', 'wall_time', 'relative'])
);
export const BUCKET_VALUES = /** @type {ReadonlyArray<BucketValue>} */ (
  Object.freeze(['mean', 'last', 'first', 'min', 'max'])
);

/**
 * @param {unknown} v
 * @returns {number | null}
 */
function finiteOrNull(v) {
  const x = parseNumber(v);
  return x !== null && Number.isFinite(x) ? x : null;
}

/**
 * A bucket field, falling back to a raw point's `value` when the field is absent.
 * @param {Bucket} bucket
 * @param {BucketValue} field
 * @returns {number | null}
 */
function bucketField(bucket, field) {
  const v = bucket[field];
  return finiteOrNull(v === undefined ? bucket.value : v);
}

/**
 * The raw x of a bucket for a mode, before any relative-time origin is subtracted.
 * @param {Bucket} bucket
 * @param {XAxisMode} mode
 * @returns {number | null}
 */
function rawX(bucket, mode) {
  if (mode === 'step') return finiteOrNull(bucket.step ?? bucket.x);
  return finiteOrNull(bucket.wall_time);
}

/**
 * @param {string} mode
 * @returns {asserts mode is XAxisMode}
 */
function checkMode(mode) {
  if (!X_AXIS_MODES.includes(/** @type {XAxisMode} */ (mode))) {
    throw new TypeError(`unknown x-axis mode ${JSON.stringify(mode)}; expected one of ${X_AXIS_MODES.join(', ')}`);
  }
}

/**
 * Indices 0..n-1 ordered by `keys` ascending; null when already in order (the common case).
 * The sort is stable, so equal keys keep their input order.
 * @param {ArrayLike<number>} keys
 * @returns {Uint32Array | null}
 */
function sortOrder(keys) {
  const n = keys.length;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (keys[i] < keys[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return null;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // TypedArray#sort with a comparator is stable (ES2019+), like Array#sort.
  return order.sort((a, b) => keys[a] - keys[b]);
}

/**
 * Convert one run's buckets to uPlot columns `[xs, ys, mins, maxs]`, ascending in x.
 *
 * Buckets without a usable x (no step, or no wall_time in a time mode) are dropped. An empty
 * bucket (`count === 0`) is a gap. `value` picks the line's y (default the bucket mean);
 * `mins`/`maxs` are for a min/max band and fall back to the raw `value` for raw points.
 * @param {ReadonlyArray<Bucket>} buckets
 * @param {{xAxis?: XAxisMode, value?: BucketValue, origin?: number | null}} [options]
 *   `origin`: seconds subtracted in `relative` mode (default: the earliest wall_time here)
 * @returns {Series}
 */
export function bucketsToSeries(buckets, { xAxis = 'step', value = 'mean', origin = null } = {}) {
  checkMode(xAxis);
  if (!BUCKET_VALUES.includes(value)) {
    throw new TypeError(`unknown bucket value ${JSON.stringify(value)}; expected one of ${BUCKET_VALUES.join(', ')}`);
  }
  /** @type {number[]} */
  const keys = [];
  /** @type {Bucket[]} */
  const kept = [];
  for (const bucket of buckets) {
    const x = rawX(bucket, xAxis);
    if (x === null) continue;
    keys.push(x);
    kept.push(bucket);
  }
  let shift = 0;
  if (xAxis === 'relative') {
    if (origin !== null && origin !== undefined) {
      shift = origin;
    } else if (keys.length > 0) {
      shift = keys.reduce((a, b) => (b < a ? b : a));
    }
  }
  const order = sortOrder(keys);
  const n = kept.length;
  const xs = new Float64Array(n);
  // NaN marks a gap until `toColumn` turns gaps into nulls.
  const ys = new Float64Array(n);
  const mins = new Float64Array(n);
  const maxs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = order === null ? i : order[i];
    const bucket = kept[j];
    xs[i] = keys[j] - shift;
    if (bucket.count === 0) {
      ys[i] = mins[i] = maxs[i] = NaN;
      continue;
    }
    ys[i] = bucketField(bucket, value) ?? NaN;
    mins[i] = bucketField(bucket, 'min') ?? NaN;
    maxs[i] = bucketField(bucket, 'max') ?? NaN;
  }
  return [xs, toColumn(ys), toColumn(mins), toColumn(maxs)];
}

/**
 * Server buckets as columns (what `/series` and `/compare` send): one array per field, aligned.
 * @typedef {Object} BucketColumns
 * @property {ArrayLike<number | null>} [step]
 * @property {ArrayLike<number | string | null>} [wall_time]
 * @property {ArrayLike<number>} [count]
 * @property {ArrayLike<number | string | null>} [min]
 * @property {ArrayLike<number | string | null>} [max]
 * @property {ArrayLike<number | string | null>} [first]
 * @property {ArrayLike<number | string | null>} [last]
 * @property {ArrayLike<number | string | null>} [mean]
 */

/**
 * `bucketsToSeries` for the columnar form the server sends, without building one object per
 * bucket: `[xs, ys, mins, maxs]`, ascending in x, gaps as null.
 * @param {BucketColumns} columns
 * @param {{xAxis?: XAxisMode, value?: BucketValue, origin?: number | null}} [options]
 * @returns {Series}
 */
export function columnsToSeries(columns, { xAxis = 'step', value = 'mean', origin = null } = {}) {
  checkMode(xAxis);
  if (!BUCKET_VALUES.includes(value)) {
    throw new TypeError(`unknown bucket value ${JSON.stringify(value)}; expected one of ${BUCKET_VALUES.join(', ')}`);
  }
  const xsIn = xAxis === 'step' ? columns.step : columns.wall_time;
  const n = xsIn ? xsIn.length : 0;
  const ysIn = columns[value];
  const minsIn = columns.min ?? ysIn;
  const maxsIn = columns.max ?? ysIn;
  const counts = columns.count;
  /** @type {number[]} */
  const keep = [];
  /** @type {number[]} */
  const keys = [];
  for (let i = 0; i < n; i++) {
    const x = finiteOrNull(/** @type {ArrayLike<unknown>} */ (xsIn)[i]);
    if (x === null) continue;
    keep.push(i);
    keys.push(x);
  }
  let shift = 0;
  if (xAxis === 'relative') {
    if (origin !== null && origin !== undefined) shift = origin;
    else if (keys.length > 0) shift = keys.reduce((a, b) => (b < a ? b : a));
  }
  const order = sortOrder(keys);
  const m = keep.length;
  const xs = new Float64Array(m);
  const ys = new Float64Array(m);
  const mins = new Float64Array(m);
  const maxs = new Float64Array(m);
  /** @param {ArrayLike<unknown> | undefined} col @param {number} i */
  const at = (col, i) => (col ? finiteOrNull(col[i]) ?? NaN : NaN);
  for (let k = 0; k < m; k++) {
    const j = order === null ? k : order[k];
    const i = keep[j];
    xs[k] = keys[j] - shift;
    if (counts && counts[i] === 0) {
      ys[k] = mins[k] = maxs[k] = NaN;
      continue;
    }
    ys[k] = at(ysIn, i);
    mins[k] = at(minsIn, i);
    maxs[k] = at(maxsIn, i);
  }
  return [xs, toColumn(ys), toColumn(mins), toColumn(maxs)];
}

/**
 * A column from values where NaN marks a gap: the array itself when it has no gap, otherwise a
 * plain array with null in each gap (what uPlot draws as a break in the line).
 * @param {Float64Array} values
 * @returns {Column}
 */
function toColumn(values) {
  let gaps = false;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      gaps = true;
      break;
    }
  }
  if (!gaps) return values;
  /** @type {Array<number | null>} */
  const out = new Array(values.length).fill(null); // packed, and fast when gaps dominate
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) out[i] = v;
  }
  return out;
}

/**
 * Union of two ascending arrays, without duplicates.
 * @param {Float64Array} a
 * @param {Float64Array} b
 * @returns {Float64Array}
 */
function mergeUnique(a, b) {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    let v;
    if (j >= b.length || (i < a.length && a[i] <= b[j])) v = a[i++];
    else v = b[j++];
    if (k === 0 || v !== out[k - 1]) out[k++] = v;
  }
  return k === out.length ? out : out.slice(0, k);
}

/**
 * @param {Float64Array} a
 * @param {Float64Array} b
 */
function sameValues(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Ascending, finite xs of one series and, when they had to be filtered or sorted, the index
 * of each in the input.
 * @param {ColumnLike} xs
 * @returns {{xs: Float64Array, index: Uint32Array | null}}
 */
function prepareXs(xs) {
  const n = xs.length;
  let clean = true;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || (i > 0 && x < /** @type {number} */ (xs[i - 1]))) {
      clean = false;
      break;
    }
  }
  if (clean) {
    return { xs: xs instanceof Float64Array ? xs : Float64Array.from(/** @type {ArrayLike<number>} */ (xs)), index: null };
  }
  /** @type {number[]} */
  const finite = [];
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (typeof x === 'number' && Number.isFinite(x)) finite.push(i);
  }
  const keys = finite.map((i) => /** @type {number} */ (xs[i]));
  const order = sortOrder(keys);
  const index = new Uint32Array(finite.length);
  const sortedXs = new Float64Array(finite.length);
  for (let k = 0; k < finite.length; k++) {
    const m = order === null ? k : order[k];
    index[k] = finite[m];
    sortedXs[k] = keys[m];
  }
  return { xs: sortedXs, index };
}

/**
 * Spread a series' column over the union axis: a gap where the series has no point. When a
 * series has several points at one x, the last in input order wins (a restarted run's newer
 * value).
 * @param {Float64Array} union
 * @param {Float64Array} xs ascending
 * @param {Uint32Array | null} index
 * @param {ColumnLike} column
 * @returns {Column}
 */
function spread(union, xs, index, column) {
  const out = new Float64Array(union.length).fill(NaN); // NaN: no point here (yet)
  let j = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    while (union[j] !== x) j++;
    const v = column[index === null ? k : index[k]];
    out[j] = typeof v === 'number' && Number.isFinite(v) ? v : NaN;
  }
  return toColumn(out);
}

/**
 * Align several runs' series on a shared x axis (the union of their xs) for an overlay chart.
 *
 * Each input is `[xs, ys, mins?, maxs?]` (the output of `bucketsToSeries`, or any arrays);
 * points with a non-finite x are dropped, unsorted input is sorted, non-finite y becomes null.
 * Cost: O(N log k) for the union of k series with N points, then O(k * union) to fill columns;
 * series that share their xs (same steps) skip the merge.
 * @param {ReadonlyArray<SeriesLike>} seriesList
 * @returns {AlignedSeries}
 */
export function alignSeries(seriesList) {
  const prepared = seriesList.map((series) => prepareXs(series[0]));
  let xs;
  if (prepared.length === 0) {
    xs = new Float64Array(0);
  } else if (prepared.every((p) => sameValues(p.xs, prepared[0].xs))) {
    xs = mergeUnique(prepared[0].xs, new Float64Array(0)); // also drops duplicate xs
  } else {
    // Pairwise rounds: log2(k) linear merges instead of one sort of all points.
    let level = prepared.map((p) => p.xs);
    while (level.length > 1) {
      /** @type {Float64Array[]} */
      const next = [];
      for (let i = 0; i < level.length; i += 2) {
        next.push(i + 1 < level.length ? mergeUnique(level[i], level[i + 1]) : level[i]);
      }
      level = next;
    }
    xs = level[0];
  }
  /** @type {Column[]} */
  const ys = [];
  /** @type {Array<Column | null>} */
  const mins = [];
  /** @type {Array<Column | null>} */
  const maxs = [];
  seriesList.forEach((series, i) => {
    const { xs: runXs, index } = prepared[i];
    ys.push(spread(xs, runXs, index, series[1]));
    const [, , lo, hi] = series;
    mins.push(lo ? spread(xs, runXs, index, lo) : null);
    maxs.push(hi ? spread(xs, runXs, index, hi) : null);
  });
  return { xs, ys, mins, maxs };
}

/**
 * Lay aligned series out as uPlot's `AlignedData`: `[xs, y0, y1, ...]`, or with `bands`
 * `[xs, y0, min0, max0, y1, min1, max1, ...]` (a series without band columns gets all-null
 * ones, so column positions stay predictable for uPlot's `bands` option).
 * @param {AlignedSeries} aligned
 * @param {{bands?: boolean}} [options]
 * @returns {UPlotData}
 */
export function toUPlotData(aligned, { bands = false } = {}) {
  /** @type {UPlotData} */
  const data = [aligned.xs];
  aligned.ys.forEach((ys, i) => {
    data.push(ys);
    if (bands) {
      const empty = () => new Array(aligned.xs.length).fill(null);
      data.push(aligned.mins[i] ?? empty(), aligned.maxs[i] ?? empty());
    }
  });
  return data;
}
