// @ts-check
/**
 * Geometry of the histogram view: TensorBoard's "offset" mode, one outline per logged
 * histogram, later steps lower and in front, so a distribution's drift over training reads at
 * a glance. Pure: returns polylines in pixels for a canvas.
 */

/**
 * A histogram as logged: `counts[i]` values fell in [edges[i], edges[i+1]).
 * @typedef {{counts: number[], edges: number[]}} HistogramData
 * @typedef {{step: number, histogram: HistogramData}} StepHistogram
 */

/**
 * @typedef {Object} RidgeLayout
 * @property {Array<{step: number, baseline: number, points: Array<[number, number]>}>} ridges
 *   first to last step; points run left to right at bin centres, y in pixels (down is larger)
 * @property {number} xMin value at the left edge
 * @property {number} xMax value at the right edge
 */

/**
 * Lay out histograms as offset ridges in a `width` x `height` box.
 * @param {ReadonlyArray<StepHistogram>} items in step order
 * @param {{width: number, height: number, padding?: number, overlap?: number}} box
 *   `overlap`: how many ridge spacings the tallest bin may rise above its baseline
 * @returns {RidgeLayout}
 */
export function ridgeLayout(items, { width, height, padding = 8, overlap = 3 }) {
  let xMin = Infinity;
  let xMax = -Infinity;
  let cMax = 0;
  const usable = items.filter((it) => {
    const { counts, edges } = it.histogram ?? {};
    return Array.isArray(counts) && Array.isArray(edges) && edges.length === counts.length + 1 && counts.length > 0;
  });
  for (const { histogram } of usable) {
    const { counts, edges } = histogram;
    if (Number.isFinite(edges[0])) xMin = Math.min(xMin, edges[0]);
    if (Number.isFinite(edges[edges.length - 1])) xMax = Math.max(xMax, edges[edges.length - 1]);
    for (const c of counts) if (Number.isFinite(c)) cMax = Math.max(cMax, c);
  }
  if (usable.length === 0 || !Number.isFinite(xMin) || !Number.isFinite(xMax)) {
    return { ridges: [], xMin: 0, xMax: 1 };
  }
  if (xMax === xMin) {
    xMin -= 0.5;
    xMax += 0.5;
  }
  const n = usable.length;
  const innerW = Math.max(1, width - 2 * padding);
  const innerH = Math.max(1, height - 2 * padding);
  const spacing = innerH / (n - 1 + overlap);
  const peak = spacing * overlap;
  const sx = (/** @type {number} */ v) => padding + ((v - xMin) / (xMax - xMin)) * innerW;
  const ridges = usable.map((it, i) => {
    const baseline = padding + peak + i * spacing;
    const { counts, edges } = it.histogram;
    /** @type {Array<[number, number]>} */
    const points = [[sx(edges[0]), baseline]];
    for (let b = 0; b < counts.length; b++) {
      const c = Number.isFinite(counts[b]) ? counts[b] : 0;
      points.push([sx((edges[b] + edges[b + 1]) / 2), baseline - (cMax > 0 ? (c / cMax) * peak : 0)]);
    }
    points.push([sx(edges[edges.length - 1]), baseline]);
    return { step: it.step, baseline, points };
  });
  return { ridges, xMin, xMax };
}
