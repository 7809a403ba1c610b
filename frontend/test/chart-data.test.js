import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildChartData, tooltipRows, nearestIndex } from '../lib/chart-data.js';
import { smooth } from '../lib/smoothing.js';

const plain = (c) => Array.from(c, (v) => (v === undefined ? null : v));

function series(run, steps, means, extra = {}) {
  return {
    run,
    total: steps.length,
    origin: 1000,
    downsampled: extra.downsampled ?? false,
    buckets: {
      step: steps,
      wall_time: steps.map((s) => 1000 + s),
      count: steps.map(() => (extra.downsampled ? 10 : 1)),
      mean: means,
      min: extra.min ?? means,
      max: extra.max ?? means,
    },
  };
}

test('overlays runs on the union of their steps with raw and smoothed columns', () => {
  const chart = buildChartData([series('a', [0, 1, 2], [1, 2, 3]), series('b', [1, 3], [5, 6]), { run: 'c', error: 'run c has no metric' }], { smoothing: 0.5 });
  assert.deepEqual(plain(chart.data[0]), [0, 1, 2, 3]);
  assert.deepEqual(chart.errors, [{ run: 'c', error: 'run c has no metric' }]);
  assert.equal(chart.runs.length, 2);
  const [a, b] = chart.runs;
  assert.deepEqual(plain(chart.data[a.raw]), [1, 2, 3, null]);
  assert.deepEqual(plain(chart.data[b.raw]), [null, 5, null, 6]);
  assert.deepEqual(plain(chart.data[a.smooth]), plain(smooth([1, 2, 3, null], 0.5)));
  assert.equal(a.min, -1, 'no envelope for series that were not downsampled');
  assert.equal(chart.data.length, 5);
});

test('downsampled series get min/max envelope columns (a spike survives in max)', () => {
  const chart = buildChartData([series('a', [0, 100], [1, 1.1], { downsampled: true, min: [0.9, 1], max: [1.2, 50] })], { smoothing: 0 });
  const [a] = chart.runs;
  assert.ok(a.downsampled);
  assert.deepEqual(plain(chart.data[a.max]), [1.2, 50]);
  assert.deepEqual(plain(chart.data[a.min]), [0.9, 1]);
  assert.deepEqual(plain(chart.data[a.smooth]), [1, 1.1], 'smoothing 0 is the raw line');
  assert.ok(a.band);
  const off = buildChartData([series('a', [0, 100], [1, 1.1], { downsampled: true })], { envelope: false });
  assert.ok(off.runs[0].min >= 0, 'min/max are kept for the tooltip and the spike marks');
  assert.equal(off.runs[0].band, false, 'but not shaded');
});

test('the tooltip lists the runs nearest the cursor value, highest first, with bucket min/max/mean', () => {
  const runs = Array.from({ length: 6 }, (_, k) => series(`r${k}`, [0, 1], [k, k + 0.5], { downsampled: true, min: [k - 0.1, k], max: [k + 100 * (k === 2), k + 1] }));
  const chart = buildChartData(runs, { smoothing: 0 });
  const all = tooltipRows(chart, 0, { smoothing: false });
  assert.deepEqual(all.rows.map((r) => r.run), ['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
  assert.equal(all.hidden, 0);
  const two = all.rows.find((r) => r.run === 'r2');
  assert.deepEqual([two?.mean, two?.min, two?.max], [2, 1.9, 102]);
  const near = tooltipRows(chart, 0, { smoothing: false, near: 1.2, limit: 3 });
  assert.deepEqual(near.rows.map((r) => r.run), ['r2', 'r1', 'r0']);
  assert.equal(near.hidden, 3);
});

test('a log scale hides values <= 0 and counts them', () => {
  const chart = buildChartData([series('a', [0, 1, 2], [0, 1, -2])], { logScale: true, smoothing: 0 });
  assert.deepEqual(plain(chart.data[chart.runs[0].raw]), [null, 1, null]);
  assert.equal(chart.hiddenNonPositive, 2);
});

test('relative time counts from the series origin; wall time is seconds', () => {
  const rel = buildChartData([series('a', [0, 5], [1, 2])], { xAxis: 'relative' });
  assert.deepEqual(plain(rel.data[0]), [0, 5]);
  const wall = buildChartData([series('a', [0, 5], [1, 2])], { xAxis: 'wall_time' });
  assert.deepEqual(plain(wall.data[0]), [1000, 1005]);
});

test('nearestIndex finds the closest value of a sparse column', () => {
  const col = [null, null, 3, null, null, null, 7];
  assert.equal(nearestIndex(col, 2), 2);
  assert.equal(nearestIndex(col, 0), 2);
  assert.equal(nearestIndex(col, 5), 6);
  assert.equal(nearestIndex(col, 4), 2, 'ties go left');
  assert.equal(nearestIndex([null, null], 1), -1);
  assert.equal(nearestIndex(col, 9), -1);
  assert.equal(nearestIndex(col, 0, 1), -1, 'limit');
});
