import { test } from 'node:test';
import assert from 'node:assert/strict';

import { csvCell, toCSV } from '../lib/csv.js';

test('csvCell quotes, spells non-finite numbers and defuses formulas', () => {
  assert.equal(csvCell(1.5), '1.5');
  assert.equal(csvCell(-2), '-2', 'negative numbers stay numbers');
  assert.equal(csvCell(NaN), 'nan');
  assert.equal(csvCell(-Infinity), '-inf');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(true), 'true');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  assert.equal(csvCell('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell('-1'), "'-1", 'text that looks like a formula is defused even if numeric-looking');
  assert.equal(csvCell('@cmd'), "'@cmd");
  assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
});

test('toCSV writes a header and rows', () => {
  assert.equal(toCSV(['run', 'loss'], [['a', 0.5], ['<img src=x>', null]]), 'run,loss\na,0.5\n<img src=x>,\n');
  assert.equal(toCSV(['x'], []), 'x\n');
});
