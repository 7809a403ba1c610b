import { test } from 'node:test';
import assert from 'node:assert/strict';

import { scrollToRow, visibleRange } from '../lib/virtual.js';

test('visibleRange covers the viewport plus overscan, clamped to the list', () => {
  assert.deepEqual(visibleRange({ scrollTop: 0, height: 100, rowHeight: 25, count: 1000, overscan: 2 }), { start: 0, end: 6, offset: 0, total: 25000 });
  assert.deepEqual(visibleRange({ scrollTop: 250, height: 100, rowHeight: 25, count: 1000, overscan: 2 }), { start: 8, end: 16, offset: 200, total: 25000 });
  const end = visibleRange({ scrollTop: 1e9, height: 100, rowHeight: 25, count: 10, overscan: 2 });
  assert.deepEqual(end, { start: 4, end: 10, offset: 100, total: 250 }, 'a stale scrollTop past the end is clamped');
  assert.deepEqual(visibleRange({ scrollTop: 0, height: 100, rowHeight: 25, count: 0 }), { start: 0, end: 0, offset: 0, total: 0 });
});

test('scrollToRow moves the least needed to show a row', () => {
  assert.equal(scrollToRow({ scrollTop: 100, height: 100, rowHeight: 20, index: 6 }), 100, 'already visible');
  assert.equal(scrollToRow({ scrollTop: 100, height: 100, rowHeight: 20, index: 2 }), 40, 'above: align top');
  assert.equal(scrollToRow({ scrollTop: 100, height: 100, rowHeight: 20, index: 10 }), 120, 'below: align bottom');
});
