// @ts-check
/**
 * The math behind the standard charts (the original SDK's log_confusion_matrix & co.): ROC and
 * precision-recall curves from an accuracy table's per-threshold TP, FP, TN, FN counts, the
 * heatmap shades of a confusion matrix, and the bins of residuals and predictions. Pure: numbers
 * in, numbers out; drawing is in std-charts.js.
 */

/**
 * @typedef {[number, number, number, number]} Counts TP, FP, TN, FN at one threshold
 * @typedef {{x: number[], y: number[]}} Curve points in drawing order
 * @typedef {{label: string, roc: Curve, pr: Curve, auc: number | null, ap: number | null}} ClassCurves
 */

/**
 * The ROC curve of one class: false positive rate (x) against true positive rate (y), one point
 * per threshold whose rates are defined, ordered by FPR (then TPR), from (0, 0) to (1, 1).
 * @param {ReadonlyArray<Counts>} table per threshold
 * @returns {Curve}
 */
export function rocCurve(table) {
  /** @type {Array<[number, number]>} */
  const points = [];
  for (const [tp, fp, tn, fn] of table) {
    if (tp + fn > 0 && fp + tn > 0) points.push([fp / (fp + tn), tp / (tp + fn)]);
  }
  if (points.length === 0) return { x: [], y: [] };
  points.push([0, 0], [1, 1]); // the thresholds above every score and below every score
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { x: points.map((p) => p[0]), y: points.map((p) => p[1]) };
}

/**
 * The precision-recall curve of one class: recall (x) against precision (y), one point per
 * threshold where something is predicted positive and positives exist, ordered by recall
 * (then precision, descending, so a vertical drop reads top to bottom).
 * @param {ReadonlyArray<Counts>} table per threshold
 * @returns {Curve}
 */
export function prCurve(table) {
  /** @type {Array<[number, number]>} */
  const points = [];
  for (const [tp, fp, , fn] of table) {
    if (tp + fp > 0 && tp + fn > 0) points.push([tp / (tp + fn), tp / (tp + fp)]);
  }
  points.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  return { x: points.map((p) => p[0]), y: points.map((p) => p[1]) };
}

/**
 * Area under a curve by the trapezoid rule (x ascending); null with fewer than two points.
 * @param {Curve} curve
 * @returns {number | null}
 */
export function area({ x, y }) {
  if (x.length < 2) return null;
  let sum = 0;
  for (let i = 1; i < x.length; i++) sum += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return sum;
}

/**
 * ROC and PR curves of every class of an accuracy table's `data`.
 * @param {any} data {class_labels, probability_tables, ...}
 * @param {'probability' | 'percentile'} [which]
 * @returns {ClassCurves[]}
 */
export function accuracyCurves(data, which = 'probability') {
  const labels = Array.isArray(data?.class_labels) ? data.class_labels : [];
  const tables = Array.isArray(data?.[`${which}_tables`]) ? data[`${which}_tables`] : [];
  return labels.map((/** @type {unknown} */ label, /** @type {number} */ i) => {
    const table = /** @type {Counts[]} */ (Array.isArray(tables[i]) ? tables[i] : []);
    const roc = rocCurve(table);
    const pr = prCurve(table);
    return { label: String(label), roc, pr, auc: area(roc), ap: area(pr) };
  });
}

/**
 * Heatmap cells of a confusion matrix: each count with its share of the actual class's row
 * (what a "normalised" matrix shows), and the shade to paint it (0 to 1 of the largest share).
 * @param {ReadonlyArray<ReadonlyArray<number>>} matrix rows: actual class; columns: predicted
 * @returns {{cells: Array<Array<{count: number, share: number, shade: number}>>, total: number, correct: number}}
 */
export function heatmapCells(matrix) {
  let total = 0;
  let correct = 0;
  const shares = matrix.map((row, i) => {
    const sum = row.reduce((a, b) => a + b, 0);
    total += sum;
    correct += row[i] ?? 0;
    return row.map((count) => (sum > 0 ? count / sum : 0));
  });
  const top = Math.max(0, ...shares.flat());
  const cells = matrix.map((row, i) => row.map((count, j) => ({ count, share: shares[i][j], shade: top > 0 ? shares[i][j] / top : 0 })));
  return { cells, total, correct };
}

/**
 * Bars of a histogram given by edges and counts (residuals): one [left, right, count] per bin.
 * @param {ReadonlyArray<number>} edges
 * @param {ReadonlyArray<number>} counts
 * @returns {Array<{left: number, right: number, count: number}>}
 */
export function bars(edges, counts) {
  const n = Math.min(counts.length, edges.length - 1);
  return Array.from({ length: Math.max(0, n) }, (_, i) => ({ left: edges[i], right: edges[i + 1], count: counts[i] }));
}

/**
 * Predicted-versus-true points of a predictions chart: one per non-empty bin, at the bin's
 * centre (the true values) with the mean prediction and its error; plus the range both axes
 * share, so the identity line y = x runs corner to corner.
 * @param {any} data {bin_edges, bin_counts, bin_averages, bin_errors}
 * @returns {{points: Array<{x: number, y: number, error: number, count: number}>, lo: number, hi: number}}
 */
export function predictionPoints(data) {
  const edges = /** @type {number[]} */ (data?.bin_edges ?? []);
  const points = [];
  for (let i = 0; i < edges.length - 1; i++) {
    const y = data.bin_averages?.[i];
    const count = data.bin_counts?.[i] ?? 0;
    if (typeof y !== 'number' || !Number.isFinite(y) || count <= 0) continue;
    const error = data.bin_errors?.[i];
    points.push({ x: (edges[i] + edges[i + 1]) / 2, y, error: typeof error === 'number' && Number.isFinite(error) ? error : 0, count });
  }
  const values = [...edges, ...points.flatMap((p) => [p.y - p.error, p.y + p.error])].filter(Number.isFinite);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  return { points, lo, hi };
}

/**
 * About `count` round tick values covering [lo, hi].
 * @param {number} lo
 * @param {number} hi
 * @param {number} [count]
 * @returns {number[]}
 */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}
