import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ancestorsOfMatches,
  buildTree,
  compareValues,
  filterTree,
  flattenVisible,
  parseTagFilter,
  sortTree,
  sortValue,
} from '../lib/tree.js';

/** @returns {import('../lib/tree.js').RunRow[]} */
function rows() {
  return [
    { id: 'sweep', parent_id: null, display_name: 'lr sweep', status: 'running', start_time: 1000, end_time: null, tags: { team: 'vision' }, metrics: { loss: 0.5 }, child_count: 3 },
    { id: 't10', parent_id: 'sweep', display_name: 'trial10', status: 'finished', start_time: 1010, end_time: 1100, tags: { lr: '0.1' }, metrics: { loss: 0.3 }, child_count: 0 },
    { id: 't2', parent_id: 'sweep', display_name: 'trial2', status: 'failed', start_time: 1005, end_time: 1006, tags: { lr: '0.01', note: 'url:http://x' }, metrics: { loss: NaN }, child_count: 0 },
    { id: 't3', parent_id: 'sweep', display_name: 'trial3', status: 'completed', start_time: '1970-01-01T00:16:47Z', end_time: 1200, tags: { lr: '0.001' }, metrics: {}, child_count: 0 },
    { id: 'solo', parent_id: null, display_name: 'baseline <img src=x onerror=alert(1)>', status: 'killed', start_time: 900, end_time: 950, tags: {}, metrics: { loss: 0.9 }, child_count: 0 },
  ];
}

/** Shape of a tree as nested [id, children] pairs, for readable assertions. */
function shape(nodes) {
  return nodes.map((n) => (n.children.length ? [n.id, shape(n.children)] : n.id));
}

test('buildTree nests children under parents, in input order', () => {
  const roots = buildTree(rows());
  assert.deepEqual(shape(roots), [['sweep', ['t10', 't2', 't3']], 'solo']);
  assert.equal(roots[0].childCount, 3);
  assert.ok(roots.every((n) => n.matched));
});

test('buildTree: empty input, orphans become roots, numeric ids match string parent ids', () => {
  assert.deepEqual(buildTree([]), []);
  const roots = buildTree([
    { id: 1, parent_id: null },
    { id: 2, parent_id: '1' },
    { id: 'lost', parent_id: 'not-loaded' },
  ]);
  assert.deepEqual(shape(roots), [['1', ['2']], 'lost']);
});

test('buildTree: parent cycles are cut so every row appears exactly once', () => {
  const roots = buildTree([
    { id: 'a', parent_id: 'b' },
    { id: 'b', parent_id: 'a' },
    { id: 'self', parent_id: 'self' },
    { id: 'c', parent_id: 'a' },
  ]);
  const seen = flattenVisible(roots, new Set(['a', 'b', 'self', 'c'])).map((r) => r.node.id);
  assert.deepEqual([...seen].sort(), ['a', 'b', 'c', 'self']);
  assert.equal(roots.length, 2, 'one root per cycle');
});

test('buildTree: a repeated id keeps the later row; child_count above loaded children is kept', () => {
  const roots = buildTree([
    { id: 'r', display_name: 'old', child_count: 5 },
    { id: 'r', display_name: 'new', child_count: 5 },
    { id: 'k', parent_id: 'r' },
  ]);
  assert.equal(roots.length, 1);
  assert.equal(roots[0].row.display_name, 'new');
  assert.equal(roots[0].childCount, 5);
  assert.equal(roots[0].children.length, 1);
});

test('sortTree by name: natural order, siblings at every level, descending', () => {
  const roots = buildTree(rows());
  // "baseline ..." < "lr sweep"; "trial2" < "trial3" < "trial10"
  assert.deepEqual(shape(sortTree(roots, { column: 'display_name' })), ['solo', ['sweep', ['t2', 't3', 't10']]]);
  assert.deepEqual(shape(sortTree(roots, { column: 'display_name', descending: true })), [['sweep', ['t10', 't3', 't2']], 'solo']);
  assert.deepEqual(shape(roots), [['sweep', ['t10', 't2', 't3']], 'solo'], 'the input tree is unchanged');
});

test('sortTree by metric: missing and NaN values last in both directions', () => {
  const roots = buildTree(rows());
  const asc = sortTree(roots, { column: 'metric:loss' });
  assert.deepEqual(asc[0].children.map((n) => n.id), ['t10', 't2', 't3']); // 0.3, NaN, missing
  const desc = sortTree(roots, { column: 'metric:loss', descending: true });
  assert.deepEqual(desc.map((n) => n.id), ['solo', 'sweep']);
  assert.deepEqual(desc[0].children, []);
  assert.deepEqual(desc[1].children.map((n) => n.id), ['t10', 't2', 't3']);
});

test('sortTree is stable: ties keep their order in both directions', () => {
  const tied = buildTree(['a', 'b', 'c', 'd'].map((id, i) => ({ id, metrics: { m: i % 2 } })));
  assert.deepEqual(sortTree(tied, { column: 'metric:m' }).map((n) => n.id), ['a', 'c', 'b', 'd']);
  assert.deepEqual(sortTree(tied, { column: 'metric:m', descending: true }).map((n) => n.id), ['b', 'd', 'a', 'c']);
});

test('sortTree by times (seconds or ISO), duration (running counts to now), status, tag', () => {
  const roots = buildTree(rows());
  const byStart = sortTree(roots, { column: 'start_time' });
  assert.deepEqual(shape(byStart), ['solo', ['sweep', ['t2', 't3', 't10']]]);
  const byDuration = sortTree(roots, { column: 'duration', nowMs: 2_000_000 });
  assert.deepEqual(byDuration.map((n) => n.id), ['solo', 'sweep']); // 50 s, then running 1000 s
  assert.equal(sortValue(rows()[0], 'duration', 2_000_000), 1_000_000);
  assert.equal(sortValue(rows()[4], 'duration'), 50_000);
  const byStatus = sortTree(roots, { column: 'status' });
  assert.deepEqual(shape(byStatus), [['sweep', ['t2', 't10', 't3']], 'solo']); // running, killed; failed first among children
  const byTag = sortTree(roots, { column: 'tag:lr' });
  assert.deepEqual(byTag[0].children.map((n) => n.id), ['t3', 't2', 't10']);
});

test('sortTree rejects an unknown column, even on an empty tree', () => {
  assert.throws(() => sortTree([], { column: 'colour' }), /unknown sort column "colour"/);
});

test('compareValues: numbers before strings, null last, natural string order', () => {
  const values = ['b', null, 10, 'a10', 2, 'a2', null, 'B'];
  const sorted = [...values].sort((a, b) => compareValues(a, b));
  assert.deepEqual(sorted, [2, 10, 'a2', 'a10', 'b', 'B', null, null]);
  const desc = [...values].sort((a, b) => compareValues(a, b, true));
  assert.deepEqual(desc, ['b', 'B', 'a10', 'a2', 10, 2, null, null]);
});

test('filterTree by text: name, id, tag key and value; ancestors kept but marked', () => {
  const roots = buildTree(rows());
  const byName = filterTree(roots, { text: 'TRIAL2' });
  assert.deepEqual(shape(byName), [['sweep', ['t2']]]);
  assert.equal(byName[0].matched, false);
  assert.equal(byName[0].childCount, 1);
  assert.equal(byName[0].children[0].matched, true);
  assert.deepEqual(shape(filterTree(roots, { text: 't10' })), [['sweep', ['t10']]]); // id
  assert.deepEqual(shape(filterTree(roots, { text: 'vision' })), ['sweep'], 'children of a match are not kept');
  assert.deepEqual(shape(filterTree(roots, { text: 'note' })), [['sweep', ['t2']]]); // tag key
  assert.deepEqual(shape(filterTree(roots, { text: 'trial 0.0' })), [['sweep', ['t2', 't3']]], 'terms are ANDed');
  assert.deepEqual(shape(filterTree(roots, { text: '<img src=x' })), ['solo']);
  assert.deepEqual(filterTree(roots, { text: 'nothing-matches' }), []);
});

test('filterTree by status set (any spelling) and by tag k:v', () => {
  const roots = buildTree(rows());
  assert.deepEqual(shape(filterTree(roots, { statuses: ['FINISHED'] })), [['sweep', ['t10', 't3']]]);
  assert.deepEqual(shape(filterTree(roots, { statuses: new Set(['failed', 'killed']) })), [['sweep', ['t2']], 'solo']);
  assert.deepEqual(shape(filterTree(roots, { tags: ['lr:0.1'] })), [['sweep', ['t10']]]);
  assert.deepEqual(shape(filterTree(roots, { tags: ['lr'] })), [['sweep', ['t10', 't2', 't3']]]);
  assert.deepEqual(shape(filterTree(roots, { tags: ['lr:*', 'note:url:http://x'] })), [['sweep', ['t2']]]);
  assert.deepEqual(shape(filterTree(roots, { tags: ['lr:0.1'], statuses: ['failed'] })), []);
  assert.deepEqual(shape(filterTree(roots, { tags: [{ key: 'team', value: 'vision' }] })), ['sweep']);
});

test('filterTree with an empty spec keeps everything', () => {
  const roots = buildTree(rows());
  assert.deepEqual(shape(filterTree(roots, {})), shape(roots));
  assert.deepEqual(shape(filterTree(roots, { text: '   ', statuses: [], tags: [''] })), shape(roots));
});

test('parseTagFilter splits at the first colon', () => {
  assert.deepEqual(parseTagFilter('lr:0.1'), { key: 'lr', value: '0.1' });
  assert.deepEqual(parseTagFilter('url:http://a:8080'), { key: 'url', value: 'http://a:8080' });
  assert.deepEqual(parseTagFilter('lr'), { key: 'lr', value: null });
  assert.deepEqual(parseTagFilter('lr:*'), { key: 'lr', value: null });
  assert.deepEqual(parseTagFilter(' lr : 0.1 '), { key: 'lr', value: '0.1' });
});

test('ancestorsOfMatches gives the ids to expand to reveal every match', () => {
  const roots = buildTree([
    { id: 'a' }, { id: 'b', parent_id: 'a' }, { id: 'c', parent_id: 'b', display_name: 'needle' }, { id: 'd' },
  ]);
  const filtered = filterTree(roots, { text: 'needle' });
  assert.deepEqual([...ancestorsOfMatches(filtered)].sort(), ['a', 'b']);
  assert.deepEqual([...ancestorsOfMatches([])], []);
});

test('flattenVisible: only expanded nodes show children, with depth and pending flags', () => {
  const roots = buildTree([
    ...rows(),
    { id: 'lazy', parent_id: null, display_name: 'lazy', child_count: 4 },
  ]);
  const collapsed = flattenVisible(roots, new Set());
  assert.deepEqual(collapsed.map((r) => [r.node.id, r.depth, r.hasChildren, r.expanded]), [
    ['sweep', 0, true, false], ['solo', 0, false, false], ['lazy', 0, true, false],
  ]);
  const open = flattenVisible(roots, new Set(['sweep', 'lazy', 'solo']));
  assert.deepEqual(open.map((r) => [r.node.id, r.depth]), [
    ['sweep', 0], ['t10', 1], ['t2', 1], ['t3', 1], ['solo', 0], ['lazy', 0],
  ]);
  assert.equal(open.find((r) => r.node.id === 'solo').expanded, false, 'a leaf never counts as expanded');
  assert.equal(open.find((r) => r.node.id === 'lazy').childrenPending, true);
  assert.equal(open.find((r) => r.node.id === 'sweep').childrenPending, false);
  assert.deepEqual(flattenVisible([], new Set(['x'])), []);
});

test('deep and wide trees: no recursion limits, linear-ish work', () => {
  const depth = 50_000;
  const chain = Array.from({ length: depth }, (_, i) => ({ id: i, parent_id: i === 0 ? null : i - 1, display_name: `n${i}` }));
  const roots = buildTree(chain);
  const all = new Set(chain.map((r) => String(r.id)));
  const sorted = sortTree(roots, { column: 'display_name' });
  const filtered = filterTree(sorted, { text: `n${depth - 1}` });
  assert.equal(ancestorsOfMatches(filtered).size, depth - 1);
  const visible = flattenVisible(filtered, all);
  assert.equal(visible.length, depth);
  assert.equal(visible[depth - 1].depth, depth - 1);
  assert.equal(visible[depth - 1].node.matched, true);
  assert.equal(visible[0].node.matched, false);

  const wide = buildTree(Array.from({ length: 100_000 }, (_, i) => ({ id: i, parent_id: i < 10 ? null : i % 10, metrics: { m: (i * 7919) % 1000 } })));
  const flat = flattenVisible(sortTree(wide, { column: 'metric:m', descending: true }), new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']));
  assert.equal(flat.length, 100_000);
  for (let i = 1; i < flat.length; i++) {
    const [a, b] = [flat[i - 1], flat[i]];
    if (a.depth === 1 && b.depth === 1) assert.ok(a.node.row.metrics.m >= b.node.row.metrics.m);
  }
});
