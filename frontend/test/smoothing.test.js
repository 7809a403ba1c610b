import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_SMOOTHING_WEIGHT, clampSmoothingWeight, smooth } from '../lib/smoothing.js';

/**
 * TensorBoard's classicSmoothing, transcribed point for point (Math.pow and all) as the oracle.
 * @param {ArrayLike<number>} ys
 * @param {number} w
 */
function tensorboardReference(ys, w) {
  const first = ys[0];
  if (Array.from(ys).every((y) => y == first)) return Array.from(ys); // TensorBoard uses ==
  let last = ys.length > 0 ? 0 : NaN;
  let numAccum = 0;
  return Array.from(ys, (y) => {
    if (!Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    numAccum++;
    const debias = w !== 1 ? 1 - Math.pow(w, numAccum) : 1;
    return last / debias;
  });
}

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertClose(actual, expected, relTol = 1e-12) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) {
      assert.ok(Object.is(a, e), `index ${i}: ${a} is not ${e}`);
    } else {
      const scale = Math.max(1, Math.abs(e));
      assert.ok(Math.abs(a - e) <= relTol * scale, `index ${i}: ${a} vs ${e}`);
    }
  }
}

test('matches TensorBoard on noisy series with NaN and infinities, at several weights', () => {
  const random = rng(42);
  const ys = new Float64Array(5000);
  for (let i = 0; i < ys.length; i++) {
    const r = random();
    ys[i] = r < 0.01 ? NaN : r < 0.015 ? Infinity : r < 0.02 ? -Infinity : Math.sin(i / 50) * 10 + random() * 3;
  }
  for (const w of [0.1, 0.6, 0.9, 0.99, 0.999]) {
    assertClose(smooth(ys, w), tensorboardReference(ys, w), 1e-9);
  }
});

test('hand-computed values: debiasing removes the pull towards 0', () => {
  const out = smooth([0, 1], 0.5);
  assert.equal(out[0], 0);
  assert.equal(out[1], 0.5 / 0.75); // last = 0.5, debias = 1 - 0.25
  const first = smooth([10, 20, 30], 0.9);
  assert.ok(Math.abs(first[0] - 10) < 1e-12, 'the first point is the value itself');
});

test('weight 0 returns the input values in a new array', () => {
  const ys = [3, 1, NaN, 4, null, 1];
  const out = smooth(ys, 0);
  assert.notEqual(out, ys);
  assert.deepEqual(out, ys);
  const typed = new Float64Array([1, 5, 2]);
  const outTyped = smooth(typed, 0);
  assert.notEqual(outTyped, typed);
  assert.deepEqual(Array.from(outTyped), [1, 5, 2]);
});

test('a constant series stays exactly constant', () => {
  const ys = new Float64Array(10_000).fill(0.1);
  const out = smooth(ys, 0.95);
  assert.ok(out.every((y) => y === 0.1));
});

test('empty input gives empty output of the same kind', () => {
  assert.deepEqual(smooth([], 0.6), []);
  const out = smooth(new Float64Array(0), 0.6);
  assert.ok(out instanceof Float64Array);
  assert.equal(out.length, 0);
});

test('one point is returned as is', () => {
  assert.deepEqual(smooth([7.5], 0.9), [7.5]);
  assert.deepEqual(smooth([NaN], 0.9), [NaN]);
});

test('non-finite values pass through and are skipped in the accumulation', () => {
  const w = 0.7;
  const out = smooth([1, NaN, 3, Infinity, -Infinity, 5], w);
  const dense = smooth([1, 3, 5], w);
  assert.ok(Number.isNaN(out[1]));
  assert.equal(out[3], Infinity);
  assert.equal(out[4], -Infinity);
  assert.deepEqual([out[0], out[2], out[5]], dense);
});

test('an all-NaN series stays NaN', () => {
  const out = smooth(new Float64Array([NaN, NaN, NaN]), 0.6);
  assert.ok(Array.from(out).every(Number.isNaN));
});

test('null gaps (aligned overlay columns) survive, and smoothing after alignment equals before', () => {
  const w = 0.8;
  const aligned = [null, 2, null, null, 4, 8, null, 1];
  const out = smooth(aligned, w);
  const dense = smooth([2, 4, 8, 1], w);
  assert.deepEqual(out.filter((v) => v !== null), dense);
  assert.deepEqual(out.map((v) => v === null), aligned.map((v) => v === null));
});

test('typed input gives a Float64Array, plain arrays stay plain arrays', () => {
  const out32 = smooth(new Float32Array([1, 2, 3]), 0.5);
  assert.ok(out32 instanceof Float64Array);
  assert.ok(Array.isArray(smooth([1, 2, 3], 0.5)));
});

test('the input is not modified', () => {
  const ys = new Float64Array([1, 9, 2, 8]);
  smooth(ys, 0.9);
  assert.deepEqual(Array.from(ys), [1, 9, 2, 8]);
});

test('weights are clamped: non-finite or negative mean 0, 1 and above mean the slider maximum', () => {
  assert.equal(clampSmoothingWeight(NaN), 0);
  assert.equal(clampSmoothingWeight(-0.5), 0);
  assert.equal(clampSmoothingWeight(Infinity), 0);
  assert.equal(clampSmoothingWeight(0.6), 0.6);
  assert.equal(clampSmoothingWeight(1), MAX_SMOOTHING_WEIGHT);
  assert.equal(clampSmoothingWeight(42), MAX_SMOOTHING_WEIGHT);
  const ys = [1, 2, 3, 2, 1];
  assert.deepEqual(smooth(ys, 1), smooth(ys, MAX_SMOOTHING_WEIGHT));
  assert.deepEqual(smooth(ys, -3), ys);
  const atOne = smooth(ys, 1);
  assert.ok(atOne.every((y) => y > 0), 'weight 1 must not collapse the series to 0 as in TensorBoard');
});

test('a million points: smoothed values stay within the running range of the input', () => {
  const n = 1_000_000;
  const random = rng(7);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) ys[i] = Math.log1p(i) + random();
  const out = smooth(ys, 0.99);
  assert.equal(out.length, n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, ys[i]);
    hi = Math.max(hi, ys[i]);
    assert.ok(out[i] >= lo - 1e-9 && out[i] <= hi + 1e-9, `index ${i}`);
  }
});

test('extreme magnitudes do not overflow', () => {
  const out = smooth([1e308, -1e308, 1e308, -1e308], 0.5);
  assert.ok(out.every(Number.isFinite));
  const tiny = smooth([5e-324, 0, 5e-324], 0.5);
  assert.ok(tiny.every(Number.isFinite));
});
