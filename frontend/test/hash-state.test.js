import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  HASH_PREFIX,
  decodeHashState,
  decodeList,
  encodeHashState,
  encodeList,
  fromPluginData,
  readBool,
  readList,
  readNumber,
  readString,
  updateHash,
} from '../lib/hash-state.js';

test('the prefix is TensorBoard\'s p.<plugin_name>.', () => {
  assert.equal(HASH_PREFIX, 'p.runhistory.');
});

test('encodeHashState: prefixed, URI-encoded, keys sorted, null and undefined omitted', () => {
  const encoded = encodeHashState({ xAxis: 'step', smoothing: 0.6, gone: null, also: undefined, bands: true });
  assert.equal(encoded, 'p.runhistory.bands=true&p.runhistory.smoothing=0.6&p.runhistory.xAxis=step');
  const fromMap = encodeHashState(new Map([['xAxis', 'step'], ['bands', true], ['smoothing', 0.6]]));
  assert.equal(fromMap, encoded, 'a Map and an object with the same entries encode the same');
  assert.equal(encodeHashState({}), '');
  assert.equal(encodeHashState({ q: 'a&b=c #d %' }), 'p.runhistory.q=a%26b%3Dc%20%23d%20%25');
});

test('encodeHashState refuses values that cannot round-trip', () => {
  assert.throws(() => encodeHashState({ smoothing: NaN }), /"smoothing": cannot store NaN/);
  assert.throws(() => encodeHashState({ x: Infinity }), /cannot store Infinity/);
  assert.throws(() => encodeHashState({ '': 'v' }), /empty key/);
  assert.throws(() => encodeHashState({ o: { a: 1 } }), /unsupported value \[object Object\]/);
});

test('decodeHashState reads only our keys from a full TensorBoard hash', () => {
  const hash = '#runhistory&tagFilter=%5Eloss%24&p.runhistory.sort=start_time&p.other.sort=x&p.runhistory.q=a%26b';
  assert.deepEqual(decodeHashState(hash), new Map([['sort', 'start_time'], ['q', 'a&b']]));
  assert.deepEqual(decodeHashState(hash.slice(1)), decodeHashState(hash), 'the leading # is optional');
  assert.deepEqual(decodeHashState(''), new Map());
  assert.deepEqual(decodeHashState('#'), new Map());
});

test('decodeHashState: malformed items are skipped, the last repeat wins, "=" inside values survives', () => {
  const hash = '#runhistory&p.runhistory.a=%E0%A4%A&p.runhistory.b=1&p.runhistory.b=2&p.runhistory.eq=x=y&p.runhistory.=empty&&p.runhistory.flag';
  assert.deepEqual(decodeHashState(hash), new Map([['b', '2'], ['eq', 'x=y']]));
});

test('round trip: hostile and unicode values come back unchanged', () => {
  const state = {
    q: '<img src=x onerror=alert(1)>',
    name: 'ünïcødé ✓ 日本',
    expanded: ['run,1', 'run%2C2', '', 'a b&c=d'],
    smoothing: 0.999,
    empty: '',
  };
  const decoded = decodeHashState(`#runhistory&${encodeHashState(state)}`);
  assert.equal(decoded.get('q'), state.q);
  assert.equal(decoded.get('name'), state.name);
  assert.equal(decoded.get('empty'), '');
  assert.deepEqual(readList(decoded, 'expanded', []), state.expanded);
  assert.equal(readNumber(decoded, 'smoothing', 0), 0.999);
});

test('encodeList / decodeList escape commas and percent signs inside items', () => {
  assert.equal(encodeList(['a', 'b,c', '50%']), 'a,b%2Cc,50%25');
  assert.deepEqual(decodeList('a,b%2Cc,50%25'), ['a', 'b,c', '50%']);
  assert.deepEqual(decodeList(encodeList(['%2C', '%25', ',%'])), ['%2C', '%25', ',%']);
  assert.deepEqual(decodeList(''), []);
  assert.deepEqual(decodeList(encodeList([])), []);
});

test('updateHash replaces our keys and keeps the tab and everyone else\'s keys in place', () => {
  const hash = '#runhistory&regexInput=run_a&p.runhistory.sort=name&p.runhistory.old=1&smoothing=0.6';
  assert.equal(
    updateHash(hash, { sort: 'start_time', desc: true }),
    '#runhistory&regexInput=run_a&smoothing=0.6&p.runhistory.desc=true&p.runhistory.sort=start_time',
  );
  assert.equal(updateHash(hash, {}), '#runhistory&regexInput=run_a&smoothing=0.6');
  assert.equal(updateHash('', { a: 1 }), '#p.runhistory.a=1');
  assert.equal(updateHash('#runhistory&%E0%A4%A=1', { a: 1 }), '#runhistory&%E0%A4%A=1&p.runhistory.a=1');
  const updated = updateHash(hash, { q: 'x&y' });
  assert.deepEqual(decodeHashState(updated), new Map([['q', 'x&y']]));
});

test('fromPluginData takes GetURLPluginData\'s reply (keys already unprefixed)', () => {
  assert.deepEqual(fromPluginData({ sort: 'name', n: 3, bad: null }), new Map([['sort', 'name']]));
  assert.deepEqual(fromPluginData(null), new Map());
  assert.deepEqual(fromPluginData('sort=name'), new Map());
});

test('typed readers fall back on absent or invalid values', () => {
  const state = new Map([
    ['s', 'text'], ['n', '0.6'], ['big', '5'], ['nan', 'NaN'], ['blank', ' '], ['yes', 'TRUE'], ['no', '0'], ['maybe', 'perhaps'], ['list', 'a,b'],
  ]);
  assert.equal(readString(state, 's', 'd'), 'text');
  assert.equal(readString(state, 'missing', 'd'), 'd');
  assert.equal(readNumber(state, 'n', 0), 0.6);
  assert.equal(readNumber(state, 'big', 0, { min: 0, max: 0.999 }), 0.999);
  assert.equal(readNumber(state, 'nan', 0.3), 0.3);
  assert.equal(readNumber(state, 'blank', 0.3), 0.3);
  assert.equal(readNumber(state, 's', 0.3), 0.3);
  assert.equal(readBool(state, 'yes', false), true);
  assert.equal(readBool(state, 'no', true), false);
  assert.equal(readBool(state, 'maybe', true), true);
  assert.equal(readBool(state, 'missing', false), false);
  assert.deepEqual(readList(state, 'list', []), ['a', 'b']);
  assert.deepEqual(readList(state, 'missing', ['x']), ['x']);
});
