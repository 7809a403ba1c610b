import { test } from 'node:test';
import assert from 'node:assert/strict';

import { alignSeries, bucketsToSeries, toUPlotData } from '../lib/buckets.js';
import { smooth } from '../lib/smoothing.js';

/** Columns as plain arrays (gap-free columns are Float64Arrays), recursively. */
function plain(value) {
  if (ArrayBuffer.isView(value)) return Array.from(value);
  if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? plain(v) : v));
  return value;
}

/** @param {number} step @param {number} mean @param {object} [extra] */
function bucket(step, mean, extra = {}) {
  return { step, wall_time: 1000 + step * 2, min: mean - 1, max: mean + 1, first: mean - 0.5, last: mean + 0.5, mean, count: 10, ...extra };
}

test('bucketsToSeries: step axis, mean line, min/max band', () => {
  const [xs, ys, mins, maxs] = bucketsToSeries([bucket(0, 1), bucket(10, 2), bucket(20, 3)]);
  assert.ok(xs instanceof Float64Array);
  assert.deepEqual(Array.from(xs), [0, 10, 20]);
  assert.deepEqual(plain([ys, mins, maxs]), [[1, 2, 3], [0, 1, 2], [2, 3, 4]]);
  assert.ok(ys instanceof Float64Array, 'a column without gaps is a Float64Array');
});

test('bucketsToSeries: the line value can be first, last, min or max', () => {
  const buckets = [bucket(0, 1), bucket(1, 2)];
  assert.deepEqual(plain(bucketsToSeries(buckets, { value: 'last' })[1]), [1.5, 2.5]);
  assert.deepEqual(plain(bucketsToSeries(buckets, { value: 'first' })[1]), [0.5, 1.5]);
  assert.deepEqual(plain(bucketsToSeries(buckets, { value: 'max' })[1]), [2, 3]);
  assert.throws(() => bucketsToSeries(buckets, { value: 'median' }), /unknown bucket value "median"/);
});

test('bucketsToSeries: raw points {step, value} work, with x as a fallback for step', () => {
  const [xs, ys, mins, maxs] = bucketsToSeries([{ step: 1, value: 5 }, { x: 2, value: 6 }]);
  assert.deepEqual(Array.from(xs), [1, 2]);
  assert.deepEqual(plain([ys, mins, maxs]), [[5, 6], [5, 6], [5, 6]]);
});

test('bucketsToSeries: NaN and infinities (numbers or TensorBoard JSON strings) become gaps', () => {
  const [, ys, mins, maxs] = bucketsToSeries([
    bucket(0, NaN),
    bucket(1, 2, { mean: 'NaN', min: '-Infinity', max: 'Infinity' }),
    bucket(2, 3, { mean: '3.5' }),
    bucket(3, 4, { mean: null }),
  ]);
  assert.ok(Array.isArray(ys), 'a column with gaps is a plain array');
  assert.deepEqual(ys, [null, null, 3.5, null]);
  assert.deepEqual(mins, [null, null, 2, 3]);
  assert.deepEqual(maxs, [null, null, 4, 5]);
});

test('bucketsToSeries: an empty bucket (count 0) is a gap; buckets without x are dropped', () => {
  const [xs, ys] = bucketsToSeries([bucket(0, 1), bucket(1, 2, { count: 0 }), { mean: 9 }, bucket(2, 3)]);
  assert.deepEqual(Array.from(xs), [0, 1, 2]);
  assert.deepEqual(ys, [1, null, 3]);
});

test('bucketsToSeries: unsorted input is sorted, equal xs keep their order', () => {
  const [xs, ys] = bucketsToSeries([bucket(20, 3), bucket(0, 1), bucket(10, 2), bucket(10, 2.5)]);
  assert.deepEqual(Array.from(xs), [0, 10, 10, 20]);
  assert.deepEqual(plain(ys), [1, 2, 2.5, 3]);
});

test('bucketsToSeries: wall time in seconds, and relative time from the first point', () => {
  const buckets = [bucket(0, 1), bucket(5, 2), { step: 6, mean: 7 }, bucket(10, 3)];
  const [wall] = bucketsToSeries(buckets, { xAxis: 'wall_time' });
  assert.deepEqual(Array.from(wall), [1000, 1010, 1020]); // the bucket without wall_time is dropped
  const [rel] = bucketsToSeries(buckets, { xAxis: 'relative' });
  assert.deepEqual(Array.from(rel), [0, 10, 20]);
  const [fromStart] = bucketsToSeries(buckets, { xAxis: 'relative', origin: 990 });
  assert.deepEqual(Array.from(fromStart), [10, 20, 30]);
  const [isoStrings] = bucketsToSeries([{ step: 0, wall_time: '1700000000.5', mean: 1 }], { xAxis: 'wall_time' });
  assert.deepEqual(Array.from(isoStrings), [1700000000.5]);
  assert.throws(() => bucketsToSeries(buckets, { xAxis: 'WALL' }), /unknown x-axis mode "WALL"/);
});

test('bucketsToSeries: relative time uses the earliest wall time even when it is not first', () => {
  const [xs] = bucketsToSeries([{ step: 0, wall_time: 50, mean: 1 }, { step: 1, wall_time: 40, mean: 1 }], { xAxis: 'relative' });
  assert.deepEqual(Array.from(xs), [0, 10]);
});

test('bucketsToSeries: empty input', () => {
  const [xs, ys, mins, maxs] = bucketsToSeries([]);
  assert.ok(xs instanceof Float64Array);
  assert.equal(xs.length, 0);
  assert.deepEqual(plain([ys, mins, maxs]), [[], [], []]);
  assert.equal(bucketsToSeries([], { xAxis: 'relative' })[0].length, 0);
});

test('alignSeries: union of xs, nulls where a run has no point', () => {
  const a = bucketsToSeries([bucket(0, 1), bucket(10, 2), bucket(20, 3)]);
  const b = bucketsToSeries([bucket(5, 7), bucket(10, 8)]);
  const aligned = alignSeries([a, b]);
  assert.deepEqual(Array.from(aligned.xs), [0, 5, 10, 20]);
  assert.deepEqual(aligned.ys, [[1, null, 2, 3], [null, 7, 8, null]]);
  assert.deepEqual(aligned.mins, [[0, null, 1, 2], [null, 6, 7, null]]);
  assert.deepEqual(aligned.maxs[1], [null, 8, 9, null]);
});

test('alignSeries: runs with the same steps share the axis', () => {
  const xs = new Float64Array([0, 1, 2]);
  const aligned = alignSeries([[xs, [1, 2, 3]], [xs, [4, NaN, 6]]]);
  assert.deepEqual(Array.from(aligned.xs), [0, 1, 2]);
  assert.notEqual(aligned.xs, xs, 'the output axis is not the caller\'s array');
  assert.ok(aligned.ys[0] instanceof Float64Array);
  assert.deepEqual(plain(aligned.ys), [[1, 2, 3], [4, null, 6]]);
  assert.deepEqual(aligned.mins, [null, null], 'no band columns in, none out');
});

test('alignSeries: edge cases (no runs, an empty run, one point, duplicates, NaN x, unsorted)', () => {
  const none = alignSeries([]);
  assert.equal(none.xs.length, 0);
  assert.deepEqual(none.ys, []);

  const withEmpty = alignSeries([[[], []], [[3], [30]]]);
  assert.deepEqual(Array.from(withEmpty.xs), [3]);
  assert.deepEqual(plain(withEmpty.ys), [[null], [30]]);

  const dupes = alignSeries([[[1, 1, 2], [10, 11, 20]]]);
  assert.deepEqual(Array.from(dupes.xs), [1, 2]);
  assert.deepEqual(plain(dupes.ys), [[11, 20]], 'the later point at a repeated x wins');

  const messy = alignSeries([[[3, NaN, 1, null, 2], [30, 99, 10, 98, 20]], [[2.5], [25]]]);
  assert.deepEqual(Array.from(messy.xs), [1, 2, 2.5, 3]);
  assert.deepEqual(messy.ys, [[10, 20, null, 30], [null, null, 25, null]]);
});

test('alignSeries: many runs with offset axes agree with a naive reference', () => {
  const runs = [];
  for (let r = 0; r < 13; r++) {
    const n = 500 + r * 37;
    const xs = Float64Array.from({ length: n }, (_, i) => r * 3 + i * (r % 4 + 1));
    const ys = Array.from(xs, (x) => x * 10 + r);
    runs.push([xs, ys]);
  }
  const aligned = alignSeries(runs);
  const union = [...new Set(runs.flatMap(([xs]) => Array.from(xs)))].sort((a, b) => a - b);
  assert.deepEqual(Array.from(aligned.xs), union);
  runs.forEach(([xs, ys], r) => {
    const byX = new Map(Array.from(xs, (x, i) => [x, ys[i]]));
    assert.deepEqual(plain(aligned.ys[r]), union.map((x) => byX.get(x) ?? null));
  });
});

test('toUPlotData: [xs, y0, y1], or with bands [xs, y0, min0, max0, ...]', () => {
  const a = bucketsToSeries([bucket(0, 1), bucket(1, 2)]);
  const b = [new Float64Array([1]), [5]];
  const aligned = alignSeries([a, b]);
  const unbanded = toUPlotData(aligned);
  assert.equal(unbanded.length, 3);
  assert.equal(unbanded[0], aligned.xs);
  assert.deepEqual(plain(unbanded.slice(1)), [[1, 2], [null, 5]]);
  const banded = toUPlotData(aligned, { bands: true });
  assert.deepEqual(plain(banded.slice(1)), [[1, 2], [0, 1], [2, 3], [null, 5], [null, null], [null, null]]);
});

test('smoothing an aligned column equals smoothing the run before alignment', () => {
  const a = [new Float64Array([0, 2, 4, 6]), [1, 5, 2, 8]];
  const b = [new Float64Array([1, 3, 5]), [0, 0, 1]];
  const aligned = alignSeries([a, b]);
  const smoothedAfter = smooth(aligned.ys[0], 0.6).filter((v) => v !== null);
  assert.deepEqual(smoothedAfter, smooth(a[1], 0.6));
});

test('columnsToSeries reads the server columns like bucketsToSeries reads bucket objects', async () => {
  const { columnsToSeries } = await import('../lib/buckets.js');
  const columns = {
    step: [0, 10, 20, 30],
    wall_time: [100, 101, 103, 106],
    count: [10, 10, 0, 10],
    min: [0.5, 'NaN', 1, -1],
    max: [2, 3, 1, 'Infinity'],
    first: [1, 2, 1, 0],
    last: [1, 2, 1, 0],
    mean: [1, 2, 1, '-Infinity'],
  };
  const objects = columns.step.map((step, i) => Object.fromEntries(Object.keys(columns).map((k) => [k, columns[k][i]])));
  for (const xAxis of ['step', 'wall_time', 'relative']) {
    assert.deepEqual(plain(columnsToSeries(columns, { xAxis })), plain(bucketsToSeries(objects, { xAxis })), xAxis);
  }
  const [xs, ys, mins, maxs] = columnsToSeries(columns, { xAxis: 'relative', origin: 90 });
  assert.deepEqual(plain(xs), [10, 11, 13, 16]);
  assert.deepEqual(plain(ys), [1, 2, null, null], 'empty bucket and -Infinity are gaps');
  assert.deepEqual(plain(mins), [0.5, null, null, -1]);
  assert.deepEqual(plain(maxs), [2, 3, null, null]);
  assert.ok(ys !== null && !(ys instanceof Float64Array));
  const clean = columnsToSeries({ step: [2, 1], mean: [5, 4] }, { value: 'mean' });
  assert.deepEqual(plain(clean), [[1, 2], [4, 5], [4, 5], [4, 5]], 'sorted by x; min/max fall back to the value');
  assert.ok(clean[1] instanceof Float64Array);
  assert.deepEqual(plain(columnsToSeries({}, {})), [[], [], [], []]);
  assert.throws(() => columnsToSeries(columns, { xAxis: 'epoch' }), /unknown x-axis mode/);
});
