import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ridgeLayout } from '../lib/histogram-layout.js';

test('ridgeLayout stacks one outline per step, scaled to the tallest bin', () => {
  const items = [
    { step: 0, histogram: { counts: [1, 4], edges: [0, 1, 2] } },
    { step: 5, histogram: { counts: [2, 2], edges: [1, 2, 4] } },
    { step: 9, histogram: { counts: [1], edges: [0] } }, // malformed: skipped
  ];
  const { ridges, xMin, xMax } = ridgeLayout(items, { width: 108, height: 108, padding: 4, overlap: 1 });
  assert.equal(ridges.length, 2);
  assert.deepEqual([xMin, xMax], [0, 4]);
  const [first, second] = ridges;
  assert.equal(first.step, 0);
  assert.ok(second.baseline > first.baseline, 'later steps lower');
  assert.deepEqual(first.points[0], [4, first.baseline]);
  assert.deepEqual(first.points.at(-1), [4 + 50, first.baseline]);
  assert.equal(Math.min(...first.points.map((p) => p[1])), first.baseline - (second.baseline - first.baseline), 'the tallest bin rises one spacing');
  assert.deepEqual(ridgeLayout([], { width: 10, height: 10 }), { ridges: [], xMin: 0, xMax: 1 });
});
