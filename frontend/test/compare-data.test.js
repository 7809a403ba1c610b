import { test } from 'node:test';
import assert from 'node:assert/strict';

import { compareRows, metricText } from '../lib/compare-data.js';

const run = (id, properties, metrics = {}) => ({ id, fields: { Status: 'Completed' }, properties, tags: { team: 'a' }, metrics });

test('rows flag what differs, and the switch hides what does not', () => {
  const runs = [run('a', { lr: 0.1, seed: 1 }, { loss: { last: 0.5 } }), run('b', { lr: 0.2, seed: 1 }, { loss: { last: 0.5 } }), run('c', { lr: 0.1, seed: 1, extra: 'x' })];
  const rows = compareRows(runs);
  const byKey = new Map(rows.map((r) => [`${r.section}/${r.key}`, r]));
  assert.deepEqual(byKey.get('Properties/lr')?.values, ['0.1', '0.2', '0.1']);
  assert.equal(byKey.get('Properties/lr')?.differs, true);
  assert.equal(byKey.get('Properties/seed')?.differs, false);
  assert.deepEqual(byKey.get('Properties/extra')?.values, ['', '', 'x'], 'a missing value is empty, and differs');
  assert.equal(byKey.get('Metrics/loss')?.differs, true);
  const only = compareRows(runs, { onlyDifferences: true }).map((r) => `${r.section}/${r.key}`);
  assert.deepEqual(only, ['Properties/extra', 'Properties/lr', 'Metrics/loss']);
});

test('a metric cell shows the last value and the range', () => {
  assert.equal(metricText({ last: 0.25, min: 0.1, max: 3, count: 10 }), '0.25 (min 0.1, max 3)');
  assert.equal(metricText({ last: 0.25, min: 0.25, max: 0.25, count: 1 }), '0.25');
  assert.equal(metricText(undefined), '');
});
