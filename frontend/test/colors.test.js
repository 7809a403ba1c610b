import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RUN_PALETTE, STYLE_COUNT, assignStyles, runColor, runDash, withAlpha } from '../lib/colors.js';

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
