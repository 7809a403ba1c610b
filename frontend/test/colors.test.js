import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RUN_PALETTE, runColor, withAlpha } from '../lib/colors.js';

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
