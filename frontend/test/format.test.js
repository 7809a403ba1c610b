import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  STATUS_KINDS,
  durationMs,
  formatDuration,
  formatNumber,
  formatNumberLong,
  formatRelativeTime,
  formatTimestamp,
  parseNumber,
  splitForEllipsis,
  statusKind,
  statusLabel,
  toEpochMs,
} from '../lib/format.js';

test('parseNumber: numbers, numeric strings, TensorBoard NaN/Infinity strings, junk', () => {
  const cases = [
    [1.5, 1.5], ['2.5', 2.5], [' 7 ', 7], ['1e3', 1000], [NaN, NaN], ['NaN', NaN], ['nan', NaN],
    ['Infinity', Infinity], ['-Infinity', -Infinity], ['inf', Infinity], [Infinity, Infinity],
    ['', null], ['  ', null], ['abc', null], [null, null], [undefined, null], [true, null], [{}, null],
  ];
  for (const [input, expected] of cases) assert.ok(Object.is(parseNumber(input), expected), `${String(input)} -> ${expected}`);
});

test('formatNumber: 4 significant digits, exponent when very large or small (as TensorBoard)', () => {
  const cases = [
    [0, '0'], [-0, '0'], [1, '1'], [1.5, '1.5'], [-0.5, '-0.5'], [0.1 + 0.2, '0.3'],
    [0.12345, '0.1235'], [123.456, '123.5'], [1234.4, '1234'], [9999.4, '9999'],
    [9999.5, '1e+4'], [10000, '1e+4'], [12345, '1.23e+4'], [-12345, '-1.23e+4'], [123456789, '1.23e+8'],
    [0.001, '0.001'], [0.00099, '9.9e-4'], [1e-7, '1e-7'], [1e300, '1e+300'],
    [Number.MAX_VALUE, '1.8e+308'], [Number.MIN_VALUE, '4.94e-324'],
  ];
  for (const [input, expected] of cases) assert.equal(formatNumber(input), expected, String(input));
});

test('formatNumber: NaN and infinities are shown; missing values are empty', () => {
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber('NaN'), 'NaN');
  assert.equal(formatNumber(Infinity), 'Infinity');
  assert.equal(formatNumber('-Infinity'), '-Infinity');
  assert.equal(formatNumber(null), '');
  assert.equal(formatNumber(undefined), '');
  assert.equal(formatNumber('not a number'), '');
  assert.equal(formatNumber('0.5'), '0.5');
});

test('formatNumberLong keeps full precision', () => {
  assert.equal(formatNumberLong(0.123456789012), '0.123456789012');
  assert.equal(formatNumberLong(123456789), '123456789');
  assert.equal(formatNumberLong('NaN'), 'NaN');
  assert.equal(formatNumberLong(null), '');
});

test('formatDuration: ms, tenths of seconds, then two units, truncated', () => {
  const cases = [
    [0, '0ms'], [0.4, '0ms'], [999, '999ms'], [1000, '1.0s'], [45_250, '45.2s'], [59_999, '59.9s'],
    [60_000, '1m 00s'], [725_000, '12m 05s'], [3_599_999, '59m 59s'], [3_600_000, '1h 00m'],
    [(2 * 60 + 3) * 60_000 + 40_000, '2h 03m'], [7_199_999, '1h 59m'], [86_400_000, '1d 00h'],
    [(3 * 24 + 4) * 3_600_000, '3d 04h'], [1e12, '11574d 01h'], [-1500, '-1.5s'], [-90_000, '-1m 30s'],
  ];
  for (const [input, expected] of cases) assert.equal(formatDuration(input), expected, String(input));
});

test('formatDuration: missing or non-finite durations are empty', () => {
  for (const input of [null, undefined, NaN, Infinity, -Infinity]) assert.equal(formatDuration(input), '');
});

test('toEpochMs: seconds, numeric strings, ISO strings, Dates; invalid gives null', () => {
  assert.equal(toEpochMs(1700000000), 1700000000000);
  assert.equal(toEpochMs(1.5), 1500);
  assert.equal(toEpochMs('1700000000.25'), 1700000000250);
  assert.equal(toEpochMs('2024-01-05T13:04:05Z'), Date.UTC(2024, 0, 5, 13, 4, 5));
  assert.equal(toEpochMs('2024-01-05T13:04:05.123+02:00'), Date.UTC(2024, 0, 5, 11, 4, 5, 123));
  assert.equal(toEpochMs(new Date(42)), 42);
  for (const bad of [null, undefined, NaN, Infinity, '', 'yesterday', new Date(NaN), {}]) {
    assert.equal(toEpochMs(bad), null, String(bad));
  }
  assert.equal(durationMs(100, 102.5), 2500);
  assert.equal(durationMs('2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z'), 3_600_000);
  assert.equal(durationMs(100, null), null);
});

test('formatTimestamp: sortable, locale-independent, UTC or local', () => {
  assert.equal(formatTimestamp(0, { utc: true }), '1970-01-01 00:00:00');
  assert.equal(formatTimestamp(1700000000, { utc: true }), '2023-11-14 22:13:20');
  assert.equal(formatTimestamp('2024-01-05T13:04:05Z', { utc: true }), '2024-01-05 13:04:05');
  assert.equal(formatTimestamp('2024-01-05T13:04:05Z', { utc: true, dateOnly: true }), '2024-01-05');
  const d = new Date(1700000000 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  assert.equal(formatTimestamp(1700000000), local);
  assert.equal(formatTimestamp(null), '');
  assert.equal(formatTimestamp('garbage'), '');
  assert.equal(formatTimestamp(1e300), '', 'beyond the Date range');
});

test('formatRelativeTime: past and future, then a calendar date after 30 days', () => {
  const now = Date.UTC(2024, 0, 31, 12, 0, 0);
  const ago = (ms) => (now - ms) / 1000; // as seconds since the epoch
  assert.equal(formatRelativeTime(ago(0), now), 'just now');
  assert.equal(formatRelativeTime(ago(4_999), now), 'just now');
  assert.equal(formatRelativeTime(ago(12_000), now), '12s ago');
  assert.equal(formatRelativeTime(ago(5 * 60_000 + 59_000), now), '5m ago');
  assert.equal(formatRelativeTime(ago(3 * 3_600_000), now), '3h ago');
  assert.equal(formatRelativeTime(ago(4 * 86_400_000), now), '4d ago');
  assert.equal(formatRelativeTime(ago(-5 * 60_000), now), 'in 5m');
  const old = ago(40 * 86_400_000);
  assert.equal(formatRelativeTime(old, now), formatTimestamp(old, { dateOnly: true }));
  assert.equal(formatRelativeTime(null, now), '');
});

test('statusKind and statusLabel normalise backend spellings', () => {
  assert.deepEqual([...STATUS_KINDS], ['running', 'stalled', 'pending', 'finished', 'failed', 'killed', 'unknown']);
  const cases = [
    ['running', 'running', 'Running'], ['RUNNING', 'running', 'Running'], [' completed ', 'finished', 'Completed'],
    ['FINISHED', 'finished', 'Completed'], ['error', 'failed', 'Failed'], ['crashed', 'failed', 'Failed'],
    ['cancelled', 'killed', 'Canceled'], ['Canceled', 'killed', 'Canceled'], ['queued', 'pending', 'Pending'],
    ['NotResponding', 'stalled', 'Not responding'],
    ['', 'unknown', 'Unknown'], [null, 'unknown', 'Unknown'], [undefined, 'unknown', 'Unknown'], [3, 'unknown', 'Unknown'],
    ['weird-state', 'unknown', 'weird-state'], ['constructor', 'unknown', 'constructor'], ['__proto__', 'unknown', '__proto__'],
  ];
  for (const [input, kind, label] of cases) {
    assert.equal(statusKind(input), kind, String(input));
    assert.equal(statusLabel(input), label, String(input));
  }
});

test('formatCompact shortens steps and counts for axes', async () => {
  const { formatCompact } = await import('../lib/format.js');
  const cases = [[0, '0'], [950, '950'], [999, '999'], [1000, '1k'], [12500, '12.5k'], [999_999, '1M'], [3e6, '3M'], [1.234e9, '1.23B'], [-2500, '-2.5k'], [0.5, '0.5'], [NaN, 'NaN'], [null, ''], ['2000', '2k']];
  for (const [input, expected] of cases) assert.equal(formatCompact(input), expected, String(input));
});

test('names split for a middle ellipsis keep their distinguishing end', () => {
  assert.deepEqual(splitForEllipsis('very-long-sweep-child-alpha0.1'), ['very-long-sweep-', 'child-alpha0.1']);
  assert.deepEqual(splitForEllipsis('ab'), ['a', 'b']);
  assert.deepEqual(splitForEllipsis(''), ['', '']);
  assert.equal(splitForEllipsis('x'.repeat(40)).join(''), 'x'.repeat(40));
});
