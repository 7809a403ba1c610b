import { test } from 'node:test';
import assert from 'node:assert/strict';

import { accuracyCurves, area, bars, heatmapCells, predictionPoints, prCurve, rocCurve, ticks } from '../lib/std-charts.js';

// Class "0" of tests/chart_docs.py: 6 positives, 4 negatives, five thresholds 0 .. 1.
const TABLE = [[6, 4, 0, 0], [5, 2, 2, 1], [4, 1, 3, 2], [2, 0, 4, 4], [0, 0, 4, 6]];

const close = (/** @type {number[]} */ a, /** @type {number[]} */ b) => {
  assert.equal(a.length, b.length, `${a} vs ${b}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-12, `${a} vs ${b} at ${i}`));
};

test('rocCurve gives FPR against TPR per threshold, sorted, from (0,0) to (1,1)', () => {
  const { x, y } = rocCurve(TABLE);
  close(x, [0, 0, 0, 0.25, 0.5, 1, 1]);
  close(y, [0, 0, 2 / 6, 4 / 6, 5 / 6, 1, 1]);
  assert.deepEqual(rocCurve([[0, 3, 1, 0]]), { x: [], y: [] }, 'no positives: no ROC');
});

test('prCurve gives recall against precision and skips thresholds predicting nothing', () => {
  const { x, y } = prCurve(TABLE);
  close(x, [2 / 6, 4 / 6, 5 / 6, 1]);
  close(y, [1, 4 / 5, 5 / 7, 6 / 10]);
});

test('area is the trapezoid rule, and a perfect classifier has AUC 1', () => {
  assert.equal(area({ x: [0], y: [1] }), null);
  close([/** @type {number} */ (area({ x: [0, 1], y: [0, 1] }))], [0.5]);
  const perfect = rocCurve([[5, 5, 0, 0], [5, 0, 5, 0], [0, 0, 5, 5]]);
  close([/** @type {number} */ (area(perfect))], [1]);
  const [first] = accuracyCurves({ class_labels: [0], probability_tables: [TABLE] });
  assert.equal(first.label, '0');
  close([/** @type {number} */ (first.auc)], [0.25 * (2 / 6 + 4 / 6) / 2 + 0.25 * (4 / 6 + 5 / 6) / 2 + 0.5 * (5 / 6 + 1) / 2]); // 37/48
});

test('accuracyCurves tolerates missing tables and labels', () => {
  assert.deepEqual(accuracyCurves(null), []);
  const [only] = accuracyCurves({ class_labels: ['a'], probability_tables: [] });
  assert.deepEqual(only.roc, { x: [], y: [] });
  assert.equal(only.auc, null);
  const pct = accuracyCurves({ class_labels: ['a'], percentile_tables: [TABLE] }, 'percentile');
  assert.equal(pct[0].pr.x.length, 4);
});

test('heatmapCells shades by share of the actual class and counts the diagonal', () => {
  const { cells, total, correct } = heatmapCells([[8, 2], [0, 0]]);
  assert.equal(total, 10);
  assert.equal(correct, 8);
  assert.deepEqual(cells[0][0], { count: 8, share: 0.8, shade: 1 });
  assert.deepEqual(cells[0][1], { count: 2, share: 0.2, shade: 0.25 });
  assert.deepEqual(cells[1][1], { count: 0, share: 0, shade: 0 }, 'an empty row is unshaded, not NaN');
});

test('bars pair edges with counts', () => {
  assert.deepEqual(bars([0, 1, 3], [4, 5]), [{ left: 0, right: 1, count: 4 }, { left: 1, right: 3, count: 5 }]);
  assert.deepEqual(bars([0], [1]), []);
});

test('predictionPoints skips empty bins and spans both axes for the identity line', () => {
  const { points, lo, hi } = predictionPoints({ bin_edges: [0, 1, 2, 3], bin_counts: [5, 0, 7], bin_averages: [0.3, null, 2.4], bin_errors: [0.1, null, 0.9] });
  assert.deepEqual(points.map((p) => [p.x, p.y, p.count]), [[0.5, 0.3, 5], [2.5, 2.4, 7]]);
  assert.equal(lo, 0);
  close([hi], [2.4 + 0.9]);
  assert.deepEqual(predictionPoints({}), { points: [], lo: 0, hi: 1 }, 'nothing logged: a unit square');
});

test('ticks are round numbers covering the range', () => {
  assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(-2, 2, 4), [-2, -1, 0, 1, 2]);
  assert.deepEqual(ticks(3, 3), [3]);
});
