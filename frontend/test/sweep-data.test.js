import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bestRow, chooseAxes, defaultAxes, numericCell, paddedRange, scatterPoints, sortSweepRows, suggestLog } from '../lib/sweep-data.js';

const sweep = {
  parent: { id: 'p', display_name: 'sweep', status: 'Completed' },
  total: 4,
  runs: [
    { id: 'a', display_name: 'alpha1', status: 'Completed' },
    { id: 'b', display_name: 'alpha0.01', status: 'Completed' },
    { id: 'c', display_name: 'alpha0.1', status: 'Failed' },
    { id: 'd', display_name: 'alpha10', status: 'Completed' },
  ],
  columns: [
    { key: 'tag:opt', name: 'opt', source: 'tag', kind: 'param', numeric: false },
    { key: 'property:alpha', name: 'alpha', source: 'property', kind: 'param', numeric: true },
    { key: 'scalar:val/mse', name: 'val/mse', source: 'scalar', kind: 'metric', numeric: true },
    { key: 'scalar:acc', name: 'acc', source: 'scalar', kind: 'metric', numeric: true },
  ],
  values: [
    ['adam', 1, 0.5, 0.9],
    ['sgd', 0.01, 0.2, 0.7],
    ['adam', 0.1, null, null],
    ['sgd', 10, 'NaN', 0.95],
  ],
};

test('defaultAxes plots the first numeric parameter against the first numeric metric', () => {
  assert.deepEqual(defaultAxes(sweep.columns), { x: 'property:alpha', y: 'scalar:val/mse' });
  assert.deepEqual(defaultAxes(sweep.columns.filter((c) => c.kind === 'param')), { x: 'property:alpha', y: null });
  assert.deepEqual(chooseAxes(sweep.columns, 'scalar:acc', 'tag:opt'), { x: 'scalar:acc', y: 'scalar:val/mse' }, 'non-numeric falls back');
});

test('scatterPoints sorts by x and skips runs missing either value', () => {
  const points = scatterPoints(sweep, 'property:alpha', 'scalar:val/mse');
  assert.deepEqual(Array.from(points.xs), [0.01, 1]);
  assert.deepEqual(Array.from(points.ys), [0.2, 0.5]);
  assert.deepEqual(Array.from(points.runIndex), [1, 0]);
  assert.equal(scatterPoints(sweep, 'nope', 'scalar:acc').xs.length, 0);
  assert.equal(numericCell('Infinity'), null);
  assert.equal(numericCell('0.5'), 0.5);
});

test('suggestLog for positive values over two decades', () => {
  assert.ok(suggestLog([0.01, 0.1, 1, 10]));
  assert.ok(!suggestLog([1, 2, 3]));
  assert.ok(!suggestLog([0, 1, 1000]));
  assert.ok(!suggestLog([5]));
});

test('sortSweepRows sorts numbers numerically, names naturally, missing last', () => {
  assert.deepEqual(sortSweepRows(sweep, 'property:alpha', false), [1, 2, 0, 3]);
  assert.deepEqual(sortSweepRows(sweep, 'scalar:val/mse', false), [1, 0, 3, 2], 'NaN text sorts after numbers, null last');
  assert.deepEqual(sortSweepRows(sweep, 'scalar:val/mse', true).at(-1), 2, 'missing stays last when descending');
  assert.deepEqual(sortSweepRows(sweep, 'name', false), [1, 2, 0, 3]);
});

test('bestRow: lowest for loss-like metrics, highest otherwise', () => {
  assert.equal(bestRow(sweep, 'scalar:val/mse'), 1);
  assert.equal(bestRow(sweep, 'scalar:acc'), 3);
  assert.equal(bestRow(sweep, 'nope'), -1);
});

test('defaultAxes skips constant parameters and prefers validation metrics', () => {
  const columns = [
    { key: 'property:batch', name: 'batch', source: 'property', kind: 'param', numeric: true },
    { key: 'property:lr', name: 'lr', source: 'property', kind: 'param', numeric: true },
    { key: 'scalar:train/loss', name: 'train/loss', source: 'scalar', kind: 'metric', numeric: true },
    { key: 'scalar:val/acc', name: 'val/acc', source: 'scalar', kind: 'metric', numeric: true },
  ];
  const values = [[256, 0.1, 1, 0.5], [256, 0.01, 0.5, 0.7], [256, 0.001, 0.7, 0.6]];
  assert.deepEqual(defaultAxes(columns, values), { x: 'property:lr', y: 'scalar:val/acc' });
  assert.deepEqual(chooseAxes(columns, null, 'scalar:train/loss', values), { x: 'property:lr', y: 'scalar:train/loss' });
});

test('axis ranges leave room at both ends, in log space on a log axis', () => {
  assert.deepEqual(paddedRange(0, 10, { fraction: 0.1 }), [-1, 11]);
  const [lo, hi] = paddedRange(0.001, 1, { log: true, fraction: 0.1 });
  assert.ok(Math.abs(Math.log10(lo) + 3.3) < 1e-9 && Math.abs(Math.log10(hi) - 0.3) < 1e-9);
  assert.deepEqual(paddedRange(5, 5), [4.5, 5.5]);
  assert.deepEqual(paddedRange(null, null), [0, 1]);
});
