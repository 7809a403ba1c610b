// @ts-check
/**
 * Which bucket extremes a chart marks, so a spike is never lost: a bucket whose min or max
 * stands out from its neighbours gets a stem and a dot, and one outside the y range (when the
 * user chose "Ignore outliers") gets a marker at the edge with its value. Pure: chart.js draws.
 */

/** @typedef {ArrayLike<number | null | undefined>} ColumnLike */

/**
 * One marked extreme.
 * @typedef {Object} Extreme
 * @property {number} index data index of the bucket
 * @property {'max' | 'min'} side
 * @property {number} value the bucket's max (or min)
 * @property {boolean} clipped outside the y range: drawn at the edge
 */

const STAND_OUT_PX = 6; // an extreme this far beyond its line and its neighbours' extremes is marked
const NEIGHBOURS = 2; // buckets each side it is compared with

/**
 * The extremes of one run worth marking in the visible index range `[i0, i1]`.
 * @param {{line: ColumnLike, min: ColumnLike, max: ColumnLike}} columns the drawn line and the bucket extremes
 * @param {(value: number) => number} toPx value to CSS px (growing downwards)
 * @param {{lo: number, hi: number}} range the y scale
 * @param {number} i0
 * @param {number} i1
 * @returns {Extreme[]}
 */
export function findExtremes({ line, min, max }, toPx, range, i0, i1) {
  /** @type {Extreme[]} */
  const out = [];
  const from = Math.max(0, i0);
  const to = Math.min(max.length - 1, i1);
  for (let i = from; i <= to; i++) {
    const hi = max[i];
    const lo = min[i];
    if (hi !== null && hi !== undefined && Number.isFinite(hi)) {
      if (hi > range.hi) out.push({ index: i, side: 'max', value: hi, clipped: true });
      else if (standsOut(i, hi, line, max, toPx, 1)) out.push({ index: i, side: 'max', value: hi, clipped: false });
    }
    if (lo !== null && lo !== undefined && Number.isFinite(lo)) {
      if (lo < range.lo) out.push({ index: i, side: 'min', value: lo, clipped: true });
      else if (standsOut(i, lo, line, min, toPx, -1)) out.push({ index: i, side: 'min', value: lo, clipped: false });
    }
  }
  return out;
}

/**
 * Whether the extreme `value` of bucket `i` lies well beyond its own line value and the same
 * extreme of the buckets around it (a lone spike, not the width of a noisy band).
 * @param {number} i
 * @param {number} value
 * @param {ColumnLike} line
 * @param {ColumnLike} extremes
 * @param {(value: number) => number} toPx
 * @param {1 | -1} direction 1: upwards (max), -1: downwards (min)
 */
function standsOut(i, value, line, extremes, toPx, direction) {
  const px = toPx(value);
  const own = line[i];
  if (own === null || own === undefined || direction * (toPx(own) - px) < STAND_OUT_PX) return false;
  for (let d = -NEIGHBOURS; d <= NEIGHBOURS; d++) {
    const v = d === 0 ? undefined : extremes[i + d];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (direction * (toPx(v) - px) < STAND_OUT_PX) return false;
  }
  return true;
}
