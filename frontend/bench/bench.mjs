// Timings of the hot paths under Node. Run by hand: `node bench/bench.mjs` (or `npm run bench`).
// Not a test: numbers depend on the machine. Each case runs a few times after a warm-up run;
// the median is reported, with the cold (first) run beside it.
import { alignSeries, bucketsToSeries, toUPlotData } from '../lib/buckets.js';
import { smooth } from '../lib/smoothing.js';
import { buildTree, filterTree, flattenVisible, sortTree } from '../lib/tree.js';

const REPEATS = 5;

/** Deterministic pseudo-random numbers (mulberry32). */
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

/**
 * @param {string} label
 * @param {() => unknown} fn
 */
function bench(label, fn) {
  const times = [];
  let result;
  for (let i = 0; i <= REPEATS; i++) {
    const start = performance.now();
    result = fn();
    times.push(performance.now() - start);
  }
  const cold = times[0];
  const warm = times.slice(1).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)];
  console.log(`${label.padEnd(58)} median ${median.toFixed(1).padStart(7)} ms   cold ${cold.toFixed(1).padStart(7)} ms`);
  return result;
}

const random = rng(1);
const N = 1_000_000;
const ys = new Float64Array(N);
for (let i = 0; i < N; i++) ys[i] = Math.exp(-i / 2e5) + random() * 0.1 + (random() < 0.001 ? NaN : 0);
const ysArray = Array.from(ys, (v, i) => (i % 10 === 0 ? null : v));

console.log(`node ${process.version}, ${process.arch}`);
bench('smooth 1,000,000 points (Float64Array, w=0.6)', () => smooth(ys, 0.6));
bench('smooth 1,000,000 points (Float64Array, w=0.999)', () => smooth(ys, 0.999));
bench('smooth 1,000,000 points (array with null gaps, w=0.6)', () => smooth(ysArray, 0.6));

const RUNS = 20;
const POINTS = 100_000;
/**
 * @param {(run: number, i: number) => number} xOf
 * @returns {Array<[Float64Array, number[], number[], number[]]>}
 */
function makeRuns(xOf) {
  return Array.from({ length: RUNS }, (_, r) => {
    const xs = Float64Array.from({ length: POINTS }, (_, i) => xOf(r, i));
    const y = Array.from(xs, (_, i) => Math.sin(i / 1000 + r) + random());
    return [xs, y, y.map((v) => v - 0.1), y.map((v) => v + 0.1)];
  });
}
const shared = makeRuns((_r, i) => i * 10);
const offset = makeRuns((r, i) => i * 10 + (r % 5) * 5 + Math.floor(r / 5) * 250_000); // partly overlapping
const disjoint = makeRuns((r, i) => i * 0.25 + r * 1e-3 + random() * 1e-4); // relative time: no x shared

for (const [name, runs] of [['shared steps', shared], ['offset steps', offset], ['disjoint x (relative time)', disjoint]]) {
  const lines = runs.map(([xs, y]) => [xs, y]);
  const aligned = bench(`align ${RUNS} runs x ${POINTS.toLocaleString('en')} points, ${name}`, () => alignSeries(lines));
  console.log(`${''.padEnd(4)}union ${aligned.xs.length.toLocaleString('en')} x values`);
}
const typical = Array.from({ length: RUNS }, (_, r) => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => i * 36 + r * 0.37 + random()); // relative time
  return [xs, Array.from(xs, () => random())];
});
const small = bench(`align ${RUNS} runs x 1,000 buckets, disjoint x (typical server reply)`, () => alignSeries(typical));
console.log(`${''.padEnd(4)}union ${small.xs.length.toLocaleString('en')} x values`);
bench(`align ${RUNS} x ${POINTS.toLocaleString('en')}, shared steps, with min/max bands`, () => toUPlotData(alignSeries(shared), { bands: true }));

const buckets = Array.from({ length: POINTS }, (_, i) => ({
  step: i * 10, wall_time: 1.7e9 + i, min: 0, max: 2, first: 0.5, last: 1.5, mean: 1, count: 10,
}));
bench(`bucketsToSeries ${POINTS.toLocaleString('en')} buckets (relative time)`, () => bucketsToSeries(buckets, { xAxis: 'relative' }));

const TREE = 100_000;
const rows = Array.from({ length: TREE }, (_, i) => ({
  id: `run-${i}`,
  parent_id: i < 1000 ? null : `run-${i % 1000}`,
  display_name: `trial ${i}`,
  status: ['running', 'finished', 'failed'][i % 3],
  start_time: 1.7e9 + i,
  end_time: i % 3 === 0 ? null : 1.7e9 + i + 60,
  tags: { lr: String(10 ** -(i % 5)), team: i % 2 ? 'vision' : 'nlp' },
  metrics: { loss: random() },
  child_count: i < 1000 ? 99 : 0,
}));
const roots = bench(`buildTree ${TREE.toLocaleString('en')} runs`, () => buildTree(rows));
const sorted = bench(`sortTree ${TREE.toLocaleString('en')} runs by metric`, () => sortTree(roots, { column: 'metric:loss' }));
bench(`filterTree ${TREE.toLocaleString('en')} runs (text + status + tag)`, () => filterTree(sorted, { text: 'trial 7', statuses: ['failed'], tags: ['team:nlp'] }));
const expanded = new Set(rows.slice(0, 1000).map((r) => r.id));
bench(`flattenVisible ${TREE.toLocaleString('en')} runs, all expanded`, () => flattenVisible(sorted, expanded));
