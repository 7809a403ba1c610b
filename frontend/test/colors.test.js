import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RUN_PALETTE, STYLE_COUNT, StyleMemory, assignStyles, runColor, runDash, withAlpha } from '../lib/colors.js';

test('runColor cycles through the palette and starts with TensorBoard colours', () => {
  assert.equal(runColor(0), '#ff7043');
  assert.equal(runColor(1), '#0077bb');
  assert.equal(runColor(RUN_PALETTE.length), runColor(0));
  assert.equal(runColor(-1), RUN_PALETTE[RUN_PALETTE.length - 1]);
  assert.equal(runColor(1.5), runColor(0));
  assert.equal(new Set(RUN_PALETTE).size, RUN_PALETTE.length);
});

test('withAlpha turns hex colours into rgba', () => {
  assert.equal(withAlpha('#ff7043', 0.2), 'rgba(255, 112, 67, 0.2)');
  assert.equal(withAlpha('#fff', 2), 'rgba(255, 255, 255, 1)');
  assert.equal(withAlpha('red', 0.5), 'red');
});

test('styles stay with their run and stay distinct among the runs shown', () => {
  const first = assignStyles(['a', 'b', 'c'], new Map());
  assert.deepEqual([...first.values()], [0, 1, 2]);
  // Reloaded with another selection: c keeps its style; d takes the lowest free one.
  const again = assignStyles(['d', 'c'], first);
  assert.equal(again.get('c'), 2);
  assert.equal(again.get('d'), 0);
  const many = assignStyles(Array.from({ length: STYLE_COUNT }, (_, i) => `r${i}`), new Map());
  assert.equal(new Set(many.values()).size, STYLE_COUNT);
  const styles = new Set([...many.values()].map((k) => `${runColor(k)}|${runDash(k).join(',')}`));
  assert.equal(styles.size, STYLE_COUNT, 'colour and dash together are distinct');
  assert.deepEqual(runDash(0), []);
});

test('a style memory survives a reload and forgets the oldest runs first', () => {
  const data = new Map();
  const storage = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
  const memory = new StyleMemory('styles', 3, storage);
  memory.assign(['a', 'b', 'c']);
  memory.assign(['d']); // d takes style 0 (nothing else shown); a is forgotten
  const again = new StyleMemory('styles', 3, storage);
  assert.deepEqual([...again.saved], [['b', 1], ['c', 2], ['d', 0]]);
  assert.equal(again.assign(['c', 'x']).get('c'), 2);
  assert.equal(new StyleMemory('styles', 3, { getItem: () => '{bad', setItem: () => {} }).saved.size, 0);
});
