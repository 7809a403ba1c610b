import { test } from 'node:test';
import assert from 'node:assert/strict';

import { escapeRegex, runRegex, safeName, scalarsHash, tagRegex } from '../lib/scalars-link.js';

test('safeName mirrors the exporter (export/_layout.py safe_name)', () => {
  assert.equal(safeName('alpha0.1'), 'alpha0.1');
  assert.equal(safeName('a/b\\c'), 'a_b_c');
  assert.equal(safeName('<img src=x onerror=alert(1)>'), '_img src=x onerror=alert(1)_');
  assert.equal(safeName('..'), '__');
  assert.equal(safeName('../../etc'), '___.._etc');
  assert.equal(safeName(' .hidden '), '__hidden');
  assert.equal(safeName('trailing. '), 'trailing');
  assert.equal(safeName('CON'), 'CON_');
  assert.equal(safeName('nul.txt'), 'nul.txt_');
  assert.equal(safeName(''), 'run');
  assert.equal(new TextEncoder().encode(safeName('é'.repeat(80))).length, 100);
  assert.equal(safeName('e\u0301'), '\u00e9', 'NFC');
});

test('regexes escape names and tolerate collision suffixes', () => {
  assert.equal(escapeRegex('a.b*c(1)/[x]'), 'a\\.b\\*c\\(1\\)\\/\\[x\\]');
  assert.equal(tagRegex(['train/loss']), '^train\\/loss$');
  assert.equal(tagRegex(['a', 'b', 'a']), '^(a|b)$');
  assert.equal(tagRegex([]), '');
  const one = runRegex([['sweep', 'alpha0.1']]);
  assert.equal(one, '(^|/)sweep(_\\d+)?/alpha0\\.1(_\\d+)?$');
  const re = new RegExp(one);
  assert.ok(re.test('sweep/alpha0.1'));
  assert.ok(re.test('sweep_2/alpha0.1_3'));
  assert.ok(re.test('ridge/sweep/alpha0.1'));
  assert.ok(!re.test('sweep/alpha0x1'));
  assert.ok(!re.test('sweep/alpha0.1/logs'));
  assert.ok(new RegExp(runRegex([['a'], ['b']])).test('b'));
  assert.equal(runRegex([]), '');
});

test('scalarsHash builds the Scalars tab hash', () => {
  const hash = scalarsHash({ runs: [['run a']], tags: ['loss'] });
  assert.equal(hash, `scalars&tagFilter=${encodeURIComponent('^loss$')}&regexInput=${encodeURIComponent('(^|/)run a(_\\d+)?$')}`);
  assert.equal(scalarsHash({ runs: [], tags: [] }), 'scalars');
});
