// @ts-check
/**
 * The tab's state in TensorBoard's URL hash, as pure string <-> Map functions.
 *
 * TensorBoard's hash is `#<tab>&key=value&key=value`, each key and value URI-encoded; a
 * plugin's own keys carry the prefix `p.<plugin_name>.` (TensorBoard's
 * `experimental.GetURLPluginData` returns those keys with the prefix stripped, values as
 * strings). Keys and values here are unprefixed; the prefix is added and stripped at the edge.
 * Messaging with the parent page lives elsewhere.
 *
 * Values written may be strings, finite numbers, booleans or lists of strings; everything
 * reads back as a string (use the `read*` helpers). Lists are comma-separated, with "%" and ","
 * inside items escaped, so any item round-trips.
 */

export const HASH_PREFIX = 'p.runhistory.';

/** @typedef {string | number | boolean | ReadonlyArray<string> | null | undefined} HashValue */
/** @typedef {ReadonlyMap<string, HashValue> | Readonly<Record<string, HashValue>>} HashStateInput */

/**
 * @param {HashStateInput} state
 * @returns {Array<[string, HashValue]>}
 */
function entriesOf(state) {
  return state instanceof Map ? Array.from(state.entries()) : Object.entries(state);
}

/**
 * Encode a list as one value: items joined by ",", with "%" and "," inside items escaped.
 * @param {ReadonlyArray<string>} items
 * @returns {string}
 */
export function encodeList(items) {
  return items.map((item) => String(item).replace(/%/g, '%25').replace(/,/g, '%2C')).join(',');
}

/**
 * Decode a value written by `encodeList`; "" is the empty list (so `[""]` reads back as `[]`).
 * @param {string} value
 * @returns {string[]}
 */
export function decodeList(value) {
  if (value === '') return [];
  return value.split(',').map((item) => item.replace(/%2C|%25/g, (escape) => (escape === '%2C' ? ',' : '%')));
}

/**
 * @param {string} key
 * @param {HashValue} value
 * @returns {string | null} the value as stored, or null to omit the key
 */
function valueToString(key, value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`hash state ${JSON.stringify(key)}: cannot store ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return encodeList(value);
  throw new TypeError(`hash state ${JSON.stringify(key)}: unsupported value ${Object.prototype.toString.call(value)}`);
}

/**
 * Encode state as hash items: "p.runhistory.a=1&p.runhistory.b=x" (keys sorted, so equal
 * states give equal strings; null and undefined values omitted). No leading "#" or tab name.
 * @param {HashStateInput} state
 * @param {string} [prefix]
 * @returns {string}
 */
export function encodeHashState(state, prefix = HASH_PREFIX) {
  /** @type {string[]} */
  const items = [];
  const entries = entriesOf(state).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of entries) {
    if (key === '') throw new TypeError('hash state: empty key');
    const text = valueToString(key, value);
    if (text === null) continue;
    items.push(`${encodeURIComponent(prefix + key)}=${encodeURIComponent(text)}`);
  }
  return items.join('&');
}

/**
 * Split a hash into decoded [key, value] items; an item without "=" (the tab name) gets
 * value null. Items that fail to decode (a stray "%") are skipped, never thrown.
 * @param {string} hash
 * @returns {Array<[string, string | null]>}
 */
function parseItems(hash) {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  /** @type {Array<[string, string | null]>} */
  const out = [];
  for (const item of body.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    try {
      if (eq < 0) out.push([decodeURIComponent(item), null]);
      else out.push([decodeURIComponent(item.slice(0, eq)), decodeURIComponent(item.slice(eq + 1))]);
    } catch {
      // URIError: a malformed item from a hand-edited URL; ignore it like TensorBoard would.
    }
  }
  return out;
}

/**
 * Read this plugin's state from a hash ("#runhistory&p.runhistory.sort=name&tagFilter=x"), a
 * bare item string, or the output of `encodeHashState`. Other keys are ignored; the prefix is
 * stripped; a repeated key keeps its last value.
 * @param {string} hash
 * @param {string} [prefix]
 * @returns {Map<string, string>}
 */
export function decodeHashState(hash, prefix = HASH_PREFIX) {
  /** @type {Map<string, string>} */
  const state = new Map();
  for (const [key, value] of parseItems(hash)) {
    if (value !== null && key.startsWith(prefix) && key.length > prefix.length) {
      state.set(key.slice(prefix.length), value);
    }
  }
  return state;
}

/**
 * Replace this plugin's items in a full TensorBoard hash, keeping the tab name and every other
 * key in place: `updateHash("#runhistory&smoothing=0.6", {sort: "name"})` gives
 * "#runhistory&smoothing=0.6&p.runhistory.sort=name". Returns a string starting with "#".
 * @param {string} hash the current hash (with or without "#")
 * @param {HashStateInput} state the plugin's complete state (keys not in it are removed)
 * @param {string} [prefix]
 * @returns {string}
 */
export function updateHash(hash, state, prefix = HASH_PREFIX) {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  const kept = body.split('&').filter((item) => {
    if (item === '') return false;
    const eq = item.indexOf('=');
    if (eq < 0) return true;
    let key;
    try {
      key = decodeURIComponent(item.slice(0, eq));
    } catch {
      return true; // not ours to judge: leave other code's items untouched
    }
    return !key.startsWith(prefix);
  });
  const ours = encodeHashState(state, prefix);
  if (ours !== '') kept.push(ours);
  return `#${kept.join('&')}`;
}

/**
 * Turn the reply of TensorBoard's `experimental.GetURLPluginData` (keys already unprefixed)
 * into the same Map `decodeHashState` returns; non-string values are ignored.
 * @param {unknown} data
 * @returns {Map<string, string>}
 */
export function fromPluginData(data) {
  /** @type {Map<string, string>} */
  const state = new Map();
  if (data === null || typeof data !== 'object') return state;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string') state.set(key, value);
  }
  return state;
}

/**
 * @param {ReadonlyMap<string, string>} state
 * @param {string} key
 * @param {string} fallback
 * @returns {string}
 */
export function readString(state, key, fallback) {
  return state.get(key) ?? fallback;
}

/**
 * A finite number, or `fallback` when absent or not a number; clamped to [min, max] if given.
 * @param {ReadonlyMap<string, string>} state
 * @param {string} key
 * @param {number} fallback
 * @param {{min?: number, max?: number}} [range]
 * @returns {number}
 */
export function readNumber(state, key, fallback, { min = -Infinity, max = Infinity } = {}) {
  const text = state.get(key);
  if (text === undefined || text.trim() === '') return fallback;
  const x = Number(text);
  if (!Number.isFinite(x)) return fallback;
  return Math.min(max, Math.max(min, x));
}

/**
 * "true"/"1" and "false"/"0" (any case); anything else gives `fallback`.
 * @param {ReadonlyMap<string, string>} state
 * @param {string} key
 * @param {boolean} fallback
 * @returns {boolean}
 */
export function readBool(state, key, fallback) {
  const text = state.get(key)?.trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return fallback;
}

/**
 * A list written by `encodeHashState` (or `encodeList`); `fallback` when absent.
 * @param {ReadonlyMap<string, string>} state
 * @param {string} key
 * @param {string[]} fallback
 * @returns {string[]}
 */
export function readList(state, key, fallback) {
  const text = state.get(key);
  return text === undefined ? fallback : decodeList(text);
}
