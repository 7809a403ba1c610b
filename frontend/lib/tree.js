// @ts-check
/**
 * The run tree: build it from flat rows, sort siblings by a column, filter, and flatten it to
 * the rows a table shows.
 *
 * Pure functions over plain objects; every step returns new nodes and never mutates its input,
 * so a view can keep the built tree and re-sort or re-filter it on every keystroke.
 * Ids are compared as strings (`String(row.id)`), so numeric ids from JSON and ids read back
 * from the URL hash match.
 */

import { durationMs, parseNumber, statusKind, toEpochMs } from './format.js';

/**
 * A run as listed by the server. Times are seconds since the epoch or ISO strings (see
 * format.js); `child_count` counts children on the server, which may not all be loaded yet.
 * @typedef {Object} RunRow
 * @property {string | number} id
 * @property {string | number | null} [parent_id]
 * @property {string} [display_name]
 * @property {string} [status]
 * @property {number | string | null} [start_time]
 * @property {number | string | null} [end_time]
 * @property {Record<string, unknown>} [tags]
 * @property {Record<string, unknown>} [metrics] metric name -> last value
 * @property {number} [child_count]
 */

/**
 * @typedef {Object} TreeNode
 * @property {string} id
 * @property {RunRow} row
 * @property {TreeNode[]} children
 * @property {number} childCount children known to exist (loaded or not); after filtering,
 *   the children kept
 * @property {boolean} matched false for an ancestor kept only because a descendant matched
 */

/**
 * @typedef {Object} VisibleRow
 * @property {TreeNode} node
 * @property {number} depth 0 for roots
 * @property {boolean} hasChildren
 * @property {boolean} expanded
 * @property {boolean} childrenPending expanded, but its children are not loaded yet
 */

/**
 * Column to sort by: "display_name", "id", "status", "start_time", "end_time", "duration",
 * "child_count", "metric:<name>" or "tag:<key>" (numeric-looking tag values sort as numbers).
 * @typedef {string} SortColumn
 */

/**
 * Build the run tree. A row whose parent is not among the rows becomes a root (children may
 * arrive before, or without, their parent); a parent cycle is cut where it is found, so every
 * row appears exactly once. A repeated id keeps the later row. Sibling order is input order.
 * @param {ReadonlyArray<RunRow>} rows
 * @returns {TreeNode[]} the roots
 */
export function buildTree(rows) {
  /** @type {Map<string, number>} id -> index in `nodes` */
  const indexOf = new Map();
  /** @type {TreeNode[]} */
  const nodes = [];
  for (const row of rows) {
    const id = String(row.id);
    const i = indexOf.get(id);
    if (i === undefined) {
      indexOf.set(id, nodes.length);
      nodes.push({ id, row, children: [], childCount: 0, matched: true });
    } else {
      nodes[i].row = row;
    }
  }
  const n = nodes.length;
  const parent = new Int32Array(n).fill(-1); // -1: a root
  for (let i = 0; i < n; i++) {
    const parentId = nodes[i].row.parent_id;
    if (parentId === null || parentId === undefined) continue;
    const p = indexOf.get(String(parentId));
    if (p !== undefined) parent[i] = p;
  }
  // Cut cycles: walk up from each node; reaching a node already on this walk's path closes a
  // cycle, which is cut above that node. 0 = unvisited, 1 = on the current path, 2 = done.
  const state = new Uint8Array(n);
  /** @type {number[]} */
  const path = [];
  for (let start = 0; start < n; start++) {
    let i = start;
    while (i >= 0 && state[i] === 0) {
      state[i] = 1;
      path.push(i);
      i = parent[i];
    }
    if (i >= 0 && state[i] === 1) parent[i] = -1;
    for (const visited of path) state[visited] = 2;
    path.length = 0;
  }
  /** @type {TreeNode[]} */
  const roots = [];
  for (let i = 0; i < n; i++) {
    if (parent[i] < 0) roots.push(nodes[i]);
    else nodes[parent[i]].children.push(nodes[i]);
  }
  for (const node of nodes) {
    const declared = parseNumber(node.row.child_count);
    node.childCount = Math.max(node.children.length, declared !== null && Number.isFinite(declared) ? declared : 0);
  }
  return roots;
}

/** Sort rank of each status kind: live runs first, then failures, then the rest. */
const STATUS_RANK = Object.freeze({ running: 0, stalled: 1, pending: 2, failed: 3, killed: 4, finished: 5, unknown: 6 });

/**
 * The value a column sorts by for one row: a number, a string, or null (no value).
 * Times are milliseconds; a running run's duration counts up to `nowMs`.
 * @param {RunRow} row
 * @param {SortColumn} column
 * @param {number} [nowMs]
 * @returns {number | string | null}
 */
export function sortValue(row, column, nowMs = Date.now()) {
  return sortKey(column, nowMs)(row);
}

/**
 * The sort-value function of a column, parsed once per sort.
 * @param {SortColumn} column
 * @param {number} nowMs
 * @returns {(row: RunRow) => number | string | null}
 */
function sortKey(column, nowMs) {
  if (column.startsWith('metric:')) {
    const name = column.slice('metric:'.length);
    return (row) => (row.metrics && Object.hasOwn(row.metrics, name) ? metricValue(row.metrics[name]) : null);
  }
  if (column.startsWith('tag:')) {
    const key = column.slice('tag:'.length);
    return (row) => (row.tags && Object.hasOwn(row.tags, key) ? tagValue(row.tags[key]) : null);
  }
  switch (column) {
    case 'id':
      return (row) => plainValue(row.id);
    case 'display_name':
      return (row) => plainValue(row.display_name ?? row.id);
    case 'status':
      return (row) => STATUS_RANK[statusKind(row.status)];
    case 'start_time':
      return (row) => toEpochMs(row.start_time);
    case 'end_time':
      return (row) => toEpochMs(row.end_time);
    case 'duration':
      return (row) => {
        if (row.end_time == null && statusKind(row.status) === 'running') {
          const start = toEpochMs(row.start_time);
          return start === null ? null : nowMs - start;
        }
        return durationMs(row.start_time, row.end_time);
      };
    case 'child_count':
      return (row) => metricValue(row.child_count);
    default:
      throw new TypeError(`unknown sort column ${JSON.stringify(column)}`);
  }
}

/**
 * @param {unknown} v
 * @returns {number | null} NaN and missing values sort as null (last)
 */
function metricValue(v) {
  const x = parseNumber(v);
  return x === null || Number.isNaN(x) ? null : x;
}

/**
 * @param {unknown} v
 * @returns {number | string | null}
 */
function plainValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  return String(v);
}

/**
 * Tag values are text, but "0.01" and "1e-3" should sort as the numbers they spell.
 * @param {unknown} v
 * @returns {number | string | null}
 */
function tagValue(v) {
  const x = parseNumber(v);
  return x !== null && Number.isFinite(x) ? x : plainValue(v);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Compare two sort values: numbers before strings, strings in natural order ("run2" before
 * "run10"), null always last whatever the direction.
 * @param {number | string | null} a
 * @param {number | string | null} b
 * @param {boolean} descending
 * @returns {number}
 */
export function compareValues(a, b, descending = false) {
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
  let c;
  if (typeof a === 'number' && typeof b === 'number') c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'number') c = -1;
  else if (typeof b === 'number') c = 1;
  else c = collator.compare(a, b);
  return descending ? -c : c;
}

/**
 * Sort siblings at every level by a column. Stable: ties keep their current order.
 * @param {ReadonlyArray<TreeNode>} roots
 * @param {{column: SortColumn, descending?: boolean, nowMs?: number}} spec
 * @returns {TreeNode[]} new roots (new nodes; rows are shared)
 */
export function sortTree(roots, { column, descending = false, nowMs = Date.now() }) {
  const key = sortKey(column, nowMs); // throws on an unknown column, even for an empty tree
  /**
   * @param {TreeNode[]} nodes
   * @returns {TreeNode[]}
   */
  const sortSiblings = (nodes) => {
    const keyed = nodes.map((node) => ({ node, key: key(node.row) }));
    keyed.sort((a, b) => compareValues(a.key, b.key, descending));
    return keyed.map((k) => k.node);
  };
  return sortSiblings(rebuild(roots, (node, children) => ({ ...node, children: sortSiblings(children) })));
}

/**
 * A tag filter term: "key:value" (the value compared as text) or "key" / "key:*" (key present).
 * The first colon separates key and value, so values may contain colons.
 * @typedef {{key: string, value: string | null}} TagFilter
 */

/**
 * Parse "key:value", "key:*" or "key" into a TagFilter.
 * @param {string} text
 * @returns {TagFilter}
 */
export function parseTagFilter(text) {
  const colon = text.indexOf(':');
  if (colon < 0) return { key: text.trim(), value: null };
  const value = text.slice(colon + 1).trim();
  return { key: text.slice(0, colon).trim(), value: value === '*' ? null : value };
}

/**
 * @typedef {Object} FilterSpec
 * @property {string} [text] whitespace-separated terms, each a case-insensitive substring of
 *   the display name, the id, a tag key or a tag value
 * @property {Iterable<string>} [statuses] statuses to keep (any spelling `statusKind` knows);
 *   empty or absent keeps all
 * @property {Iterable<string | TagFilter>} [tags] all must hold
 */

/**
 * Keep the runs that match every given criterion, plus their ancestors (with
 * `matched: false`) so a match is never shown without its path. Children of a match that do
 * not match themselves are dropped. An empty spec keeps everything.
 * @param {ReadonlyArray<TreeNode>} roots
 * @param {FilterSpec} spec
 * @returns {TreeNode[]}
 */
export function filterTree(roots, spec) {
  const terms = (spec.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const kinds = new Set(Array.from(spec.statuses ?? [], statusKind));
  const tagFilters = Array.from(spec.tags ?? [], (t) => (typeof t === 'string' ? parseTagFilter(t) : t))
    .filter((t) => t.key !== '');
  if (terms.length === 0 && kinds.size === 0 && tagFilters.length === 0) {
    return rebuild(roots, (node, children) => ({ ...node, children, matched: true }));
  }
  /** @param {RunRow} row */
  const matches = (row) => {
    if (kinds.size > 0 && !kinds.has(statusKind(row.status))) return false;
    const tags = row.tags ?? {};
    for (const { key, value } of tagFilters) {
      if (!Object.hasOwn(tags, key)) return false;
      if (value !== null && String(tags[key]) !== value) return false;
    }
    if (terms.length === 0) return true;
    const haystack = [String(row.display_name ?? ''), String(row.id)];
    for (const [k, v] of Object.entries(tags)) haystack.push(k, String(v));
    const text = haystack.join('\n').toLowerCase();
    return terms.every((term) => text.includes(term));
  };
  return rebuild(roots, (node, children) => {
    const matched = matches(node.row);
    return matched || children.length > 0 ? { ...node, children, childCount: children.length, matched } : null;
  });
}

/**
 * Rebuild a tree bottom-up without recursion (run trees can be deep): `visit` receives each
 * node with its already rebuilt children and returns the new node, or null to drop it.
 * @param {ReadonlyArray<TreeNode>} roots
 * @param {(node: TreeNode, children: TreeNode[]) => TreeNode | null} visit
 * @returns {TreeNode[]}
 */
function rebuild(roots, visit) {
  /** @typedef {{node: TreeNode | null, nodes: ReadonlyArray<TreeNode>, next: number, out: TreeNode[]}} Frame */
  /** @type {Frame[]} */
  const stack = [{ node: null, nodes: roots, next: 0, out: [] }];
  for (;;) {
    const frame = stack[stack.length - 1];
    if (frame.next < frame.nodes.length) {
      const child = frame.nodes[frame.next];
      stack.push({ node: child, nodes: child.children, next: 0, out: [] });
      continue;
    }
    stack.pop();
    if (frame.node === null) return frame.out;
    const parent = stack[stack.length - 1];
    const result = visit(frame.node, frame.out);
    if (result !== null) parent.out.push(result);
    parent.next++;
  }
}

/**
 * Ids of the nodes on the path to a match (nodes kept with `matched: false`, and matches with
 * matching descendants): expand these to reveal every match of a filter.
 * @param {ReadonlyArray<TreeNode>} roots a filtered tree
 * @returns {Set<string>}
 */
export function ancestorsOfMatches(roots) {
  /** @type {Set<string>} */
  const ids = new Set();
  rebuild(roots, (node, children) => {
    if (children.some((child) => child.matched || ids.has(child.id))) ids.add(node.id);
    return node;
  });
  return ids;
}

/**
 * The rows a table shows: depth-first, children only under expanded nodes. Iterative, so
 * deep trees do not exhaust the call stack.
 * @param {ReadonlyArray<TreeNode>} roots
 * @param {ReadonlySet<string>} expanded ids of expanded nodes
 * @returns {VisibleRow[]}
 */
export function flattenVisible(roots, expanded) {
  /** @type {VisibleRow[]} */
  const out = [];
  /** @type {Array<[TreeNode, number]>} */
  const stack = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push([roots[i], 0]);
  while (stack.length > 0) {
    const [node, depth] = /** @type {[TreeNode, number]} */ (stack.pop());
    const hasChildren = node.childCount > 0;
    const isExpanded = hasChildren && expanded.has(node.id);
    out.push({
      node,
      depth,
      hasChildren,
      expanded: isExpanded,
      childrenPending: isExpanded && node.children.length === 0,
    });
    if (isExpanded) {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push([node.children[i], depth + 1]);
    }
  }
  return out;
}
