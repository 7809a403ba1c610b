import { test } from 'node:test';
import assert from 'node:assert/strict';

import { findExtremes } from '../lib/extremes.js';

// 100 px tall plot for values 0..10: 10 px per unit, growing downwards.
const toPx = (v) => 100 - v * 10;

test('a lone spike is marked, the width of a noisy band is not', () => {
  const line = [1, 1, 1.5, 1, 1, 1];
  const max = [1.3, 1.2, 9, 1.3, 1.2, 1.3];
  const min = [0.7, 0.8, 0.9, 0.7, 0.8, 0.7];
  const marks = findExtremes({ line, min, max }, toPx, { lo: 0, hi: 10 }, 0, 5);
  assert.deepEqual(marks, [{ index: 2, side: 'max', value: 9, clipped: false }]);
});

test('extremes outside the y range are clipped marks', () => {
  const line = [1, 1, 1, 1];
  const max = [1.1, 1000, 1.1, 50];
  const min = [-3, 0.9, 0.9, 0.9];
  const marks = findExtremes({ line, min, max }, toPx, { lo: 0, hi: 10 }, 0, 3);
  assert.deepEqual(marks.filter((m) => m.clipped).map((m) => [m.index, m.side, m.value]), [[0, 'min', -3], [1, 'max', 1000], [3, 'max', 50]]);
});

test('only the visible range is looked at, and gaps are skipped', () => {
  const line = [1, null, 1, 1];
  const max = [1000, null, 1.1, 1.1];
  const min = [1, null, 1, 1];
  assert.deepEqual(findExtremes({ line, min, max }, toPx, { lo: 0, hi: 10 }, 1, 3), []);
});
