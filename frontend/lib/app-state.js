// @ts-check
/**
 * The tab's persistent view state (what survives a reload): its defaults, and its conversion to
 * and from the flat string map kept in TensorBoard's URL hash (`p.runhistory.<key>`, see
 * hash-state.js) or in localStorage. Values equal to their default are left out, so a fresh tab
 * adds nothing to the URL.
 */

import { readBool, readList, readNumber, readString } from './hash-state.js';

/** @typedef {'charts' | 'sweep' | 'compare' | 'details'} ViewName */
/** @typedef {import('./buckets.js').XAxisMode} XAxisMode */

// Copies of buckets.js X_AXIS_MODES and smoothing.js MAX_SMOOTHING_WEIGHT (a test keeps them
// equal): this module is on the runs table's path, those two are not.
const X_AXIS_MODES = /** @type {ReadonlyArray<XAxisMode>} */ (['step', 'wall_time', 'relative']);
const MAX_SMOOTHING = 0.999;

/**
 * @typedef {Object} ViewState
 * @property {string | null} experiment experiment id
 * @property {string[]} selected run ids overlaid in the charts, in selection order (colours follow it)
 * @property {string | null} focus the run whose details / sweep are shown
 * @property {string[]} expanded run ids expanded in the tree
 * @property {string} query text filter
 * @property {string[]} statuses status filter (server spellings, e.g. "Running")
 * @property {string} tagFilter tag filter terms, "key:value key2"
 * @property {string} sort sort column (see tree.js SortColumn)
 * @property {boolean} descending
 * @property {string[] | null} columns metric columns of the runs table; null: automatic
 * @property {number} smoothing 0..0.999, TensorBoard's slider
 * @property {XAxisMode} xAxis
 * @property {boolean} logScale
 * @property {boolean} envelope draw the min/max band of downsampled buckets
 * @property {boolean} ignoreOutliers the lines alone set the y range (clipped extremes stay marked)
 * @property {string} metricFilter regex (or text) over metric names shown as charts
 * @property {ViewName} view
 * @property {string | null} sweepX sweep column key on the scatter's x axis
 * @property {string | null} sweepY
 */

/** @type {Readonly<ViewState>} */
export const DEFAULT_STATE = Object.freeze({
  experiment: null,
  selected: [],
  focus: null,
  expanded: [],
  query: '',
  statuses: [],
  tagFilter: '',
  sort: 'start_time',
  descending: true,
  columns: null,
  smoothing: 0.6,
  xAxis: 'step',
  logScale: false,
  envelope: true,
  ignoreOutliers: false,
  metricFilter: '',
  view: 'charts',
  sweepX: null,
  sweepY: null,
});

export const VIEWS = /** @type {ReadonlyArray<ViewName>} */ (Object.freeze(['charts', 'sweep', 'compare', 'details']));
/** Most runs kept in the selection (and overlaid in one chart); more is said on screen. */
export const MAX_SELECTED = 500;
/** Most expanded ids remembered (an old URL must not grow without bound). */
const MAX_EXPANDED = 200;

/**
 * A fresh default state.
 * @returns {ViewState}
 */
export function defaultState() {
  return { ...DEFAULT_STATE, selected: [], expanded: [], statuses: [] };
}

/**
 * The state as a map of strings, defaults omitted (keys are short: they live in the URL).
 * @param {ViewState} state
 * @returns {Map<string, string | string[] | number | boolean>}
 */
export function stateToMap(state) {
  /** @type {Map<string, string | string[] | number | boolean>} */
  const out = new Map();
  const d = DEFAULT_STATE;
  if (state.experiment) out.set('exp', state.experiment);
  if (state.selected.length) out.set('sel', state.selected.slice(0, MAX_SELECTED));
  if (state.focus) out.set('focus', state.focus);
  if (state.expanded.length) out.set('open', state.expanded.slice(-MAX_EXPANDED));
  if (state.query) out.set('q', state.query);
  if (state.statuses.length) out.set('status', state.statuses);
  if (state.tagFilter) out.set('tag', state.tagFilter);
  if (state.sort !== d.sort) out.set('sort', state.sort);
  if (state.descending !== d.descending) out.set('desc', state.descending);
  if (state.columns !== null) out.set('cols', state.columns);
  if (state.smoothing !== d.smoothing) out.set('smooth', state.smoothing);
  if (state.xAxis !== d.xAxis) out.set('x', state.xAxis);
  if (state.logScale !== d.logScale) out.set('log', state.logScale);
  if (state.envelope !== d.envelope) out.set('band', state.envelope);
  if (state.ignoreOutliers !== d.ignoreOutliers) out.set('outl', state.ignoreOutliers);
  if (state.metricFilter) out.set('mf', state.metricFilter);
  if (state.view !== d.view) out.set('view', state.view);
  if (state.sweepX) out.set('sx', state.sweepX);
  if (state.sweepY) out.set('sy', state.sweepY);
  return out;
}

/**
 * Read a state back from a string map (hash or storage); anything missing or malformed falls
 * back to its default, so a hand-edited URL never breaks the tab.
 * @param {ReadonlyMap<string, string>} map
 * @returns {ViewState}
 */
export function stateFromMap(map) {
  const d = DEFAULT_STATE;
  const text = (/** @type {string} */ key) => readString(map, key, '').trim();
  const x = text('x');
  const view = text('view');
  const sort = text('sort');
  const cols = map.has('cols') ? readList(map, 'cols', []).filter(Boolean) : null;
  return {
    experiment: text('exp') || null,
    selected: dedupe(readList(map, 'sel', [])).slice(0, MAX_SELECTED),
    focus: text('focus') || null,
    expanded: dedupe(readList(map, 'open', [])).slice(-MAX_EXPANDED),
    query: readString(map, 'q', ''),
    statuses: dedupe(readList(map, 'status', [])),
    tagFilter: readString(map, 'tag', ''),
    sort: /^(display_name|id|status|start_time|end_time|duration|child_count|(metric|tag):.+)$/.test(sort) ? sort : d.sort,
    descending: readBool(map, 'desc', d.descending),
    columns: cols,
    smoothing: readNumber(map, 'smooth', d.smoothing, { min: 0, max: MAX_SMOOTHING }),
    xAxis: X_AXIS_MODES.includes(/** @type {XAxisMode} */ (x)) ? /** @type {XAxisMode} */ (x) : d.xAxis,
    logScale: readBool(map, 'log', d.logScale),
    envelope: readBool(map, 'band', d.envelope),
    ignoreOutliers: readBool(map, 'outl', d.ignoreOutliers),
    metricFilter: readString(map, 'mf', ''),
    view: VIEWS.includes(/** @type {ViewName} */ (view)) ? /** @type {ViewName} */ (view) : d.view,
    sweepX: text('sx') || null,
    sweepY: text('sy') || null,
  };
}

/**
 * @param {string[]} items
 * @returns {string[]}
 */
function dedupe(items) {
  return [...new Set(items.filter((item) => item !== ''))];
}

/**
 * A metric-name filter as a predicate: a valid regex is used as one (case-insensitive, like
 * TensorBoard's tag filter); otherwise a plain substring match.
 * @param {string} filter
 * @returns {(name: string) => boolean}
 */
export function metricMatcher(filter) {
  const text = filter.trim();
  if (!text) return () => true;
  try {
    const re = new RegExp(text, 'i');
    return (name) => re.test(name);
  } catch {
    const lower = text.toLowerCase();
    return (name) => name.toLowerCase().includes(lower);
  }
}
