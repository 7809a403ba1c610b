// @ts-check
/**
 * TensorBoard's scalar smoothing: a debiased exponential moving average.
 *
 * Same algorithm as the Scalars / Time Series "Smoothing" slider (`classicSmoothing` in
 * tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts), so a run looks the same in
 * both tabs:
 *   last = last * w + (1 - w) * value;   smoothed = last / (1 - w^k)
 * where k counts the finite values so far. Non-finite values (NaN, +-Infinity, and null or
 * undefined gaps) are passed through unchanged and skipped in the accumulation; a series whose
 * values are all equal is returned unchanged (TensorBoard #786: no float wobble on a constant).
 *
 * Because gaps are skipped, smoothing a run's column after `alignSeries` gives the same values
 * at the run's points as smoothing before alignment.
 */

/**
 * Largest weight used (the TensorBoard slider's maximum). At weight 1 the EMA never moves and
 * the debiasing term is undefined (TensorBoard draws every point at 0), so larger weights clamp.
 */
export const MAX_SMOOTHING_WEIGHT = 0.999;

/**
 * Clamp a smoothing weight into [0, MAX_SMOOTHING_WEIGHT]; non-finite weights mean 0.
 * @param {number} weight
 * @returns {number}
 */
export function clampSmoothingWeight(weight) {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) return 0;
  return Math.min(weight, MAX_SMOOTHING_WEIGHT);
}

/**
 * @overload
 * @param {Float64Array | Float32Array} values
 * @param {number} weight
 * @returns {Float64Array}
 */
/**
 * @overload
 * @param {ReadonlyArray<number | null | undefined>} values
 * @param {number} weight
 * @returns {Array<number | null | undefined>}
 */
/**
 * @overload
 * @param {Float64Array | Float32Array | ReadonlyArray<number | null | undefined>} values
 * @param {number} weight
 * @returns {Float64Array | Array<number | null | undefined>}
 */
/**
 * Smooth a series with TensorBoard's debiased EMA.
 *
 * Always returns a new array: a Float64Array for typed-array input, otherwise a plain array
 * (so null gaps, which uPlot needs, survive). Weight 0 or a constant series copy the input.
 * @param {Float64Array | Float32Array | ReadonlyArray<number | null | undefined>} values
 * @param {number} weight in [0, 1); clamped with `clampSmoothingWeight`
 * @returns {Float64Array | Array<number | null | undefined>}
 */
export function smooth(values, weight) {
  const w = clampSmoothingWeight(weight);
  const n = values.length;
  const typed = ArrayBuffer.isView(values);
  /** @type {Float64Array | Array<number | null | undefined>} */
  const out = typed ? new Float64Array(n) : new Array(n);
  if (n === 0) return out;

  const first = values[0];
  let constant = true;
  for (let i = 1; i < n; i++) {
    if (values[i] !== first) {
      constant = false;
      break;
    }
  }
  if (constant || w === 0) {
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  }

  const keep = 1 - w;
  let last = 0;
  let weightPower = 1; // w^k, k = finite values so far; the product is Math.pow's value to ~k ulps
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + keep * v;
    weightPower *= w;
    out[i] = last / (1 - weightPower);
  }
  return out;
}
