import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_STATE, MAX_SELECTED, defaultState, metricMatcher, stateFromMap, stateToMap } from '../lib/app-state.js';
import { decodeHashState, encodeHashState } from '../lib/hash-state.js';

test('the default state adds nothing to the URL', () => {
  assert.equal(stateToMap(defaultState()).size, 0);
  assert.deepEqual(stateFromMap(new Map()), defaultState());
  assert.deepEqual(defaultState(), { ...DEFAULT_STATE });
});

test('a state round-trips through the URL hash', () => {
  const state = {
    ...defaultState(),
    experiment: 'e1',
    selected: ['r1', 'r,2', 'r%3'],
    focus: 'r1',
    expanded: ['p'],
    query: 'alpha  ',
    statuses: ['Running', 'Failed'],
    tagFilter: 'team:vision',
    sort: 'metric:val/mse',
    descending: false,
    columns: ['val/mse'],
    smoothing: 0.9,
    xAxis: 'relative',
    logScale: true,
    envelope: false,
    metricFilter: '^train/',
    view: 'sweep',
    sweepX: 'property:alpha',
    sweepY: 'scalar:val/mse',
  };
  const hash = `#runhistory&${encodeHashState(stateToMap(state))}`;
  assert.deepEqual(stateFromMap(decodeHashState(hash)), state);
  assert.deepEqual(stateFromMap(decodeHashState(`#runhistory&${encodeHashState(stateToMap({ ...state, columns: [] }))}`)).columns, [], 'no columns differs from automatic ones');
});

test('malformed values fall back to defaults', () => {
  const state = stateFromMap(new Map([
    ['smooth', '7'], ['x', 'epoch'], ['view', 'nope'], ['sort', 'evil()'], ['desc', 'maybe'], ['log', '1'],
    ['sel', Array.from({ length: MAX_SELECTED + 300 }, (_, i) => `r${i % (MAX_SELECTED + 100)}`).join(',')],
  ]));
  assert.equal(state.smoothing, 0.999);
  assert.equal(state.xAxis, 'step');
  assert.equal(state.view, 'charts');
  assert.equal(state.sort, 'start_time');
  assert.equal(state.descending, true);
  assert.equal(state.logScale, true);
  assert.equal(state.selected.length, MAX_SELECTED);
  assert.equal(new Set(state.selected).size, state.selected.length);
});

test('metricMatcher uses a regex when it is one, else a substring', () => {
  assert.ok(metricMatcher('')('anything'));
  assert.ok(metricMatcher('^train/')('train/loss'));
  assert.ok(!metricMatcher('^train/')('val/train/loss'));
  assert.ok(metricMatcher('LOSS')('train/loss'), 'case-insensitive');
  assert.ok(metricMatcher('loss[')('loss[0]'), 'an invalid regex is a substring');
});

test('the copies of the x-axis modes and the smoothing maximum match their sources', async () => {
  const { X_AXIS_MODES } = await import('../lib/buckets.js');
  const { MAX_SMOOTHING_WEIGHT } = await import('../lib/smoothing.js');
  for (const x of X_AXIS_MODES) assert.equal(stateFromMap(new Map([['x', x]])).xAxis, x);
  assert.equal(stateFromMap(new Map([['x', 'nope']])).xAxis, 'step');
  assert.equal(stateFromMap(new Map([['smooth', '5']])).smoothing, MAX_SMOOTHING_WEIGHT);
  assert.equal(stateFromMap(new Map([['smooth', '-1']])).smoothing, 0);
});
