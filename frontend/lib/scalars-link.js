// @ts-check
/**
 * Links into TensorBoard's own Scalars tab for runs and metrics shown here.
 *
 * TensorBoard names a run by its directory under the logdir. The exporter
 * (tb_runhistory_plugin/export/_layout.py) puts a run in `<parent dir>/<safe display name>`, adding
 * `_2`, `_3`, ... when siblings would collide, so a run's TensorBoard name is its ancestors'
 * and its own safe names joined by "/". `safeName` mirrors that Python function; the regex
 * tolerates the collision suffixes and a logdir that nests everything one level deeper.
 *
 * The Scalars tab reads `tagFilter` and `regexInput` (run filter) from the URL hash:
 * `#scalars&tagFilter=^loss$&regexInput=^run_a$`.
 */

const UNSAFE = /[\u0000-\u001f\u007f/\\<>:"|?*]/g;
const MAX_NAME_BYTES = 100;
const WINDOWS_DEVICES = new Set([
  'CON', 'PRN', 'AUX', 'NUL',
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`),
]);

/**
 * The exporter's directory name for a display name (see `safe_name` in export/_layout.py).
 * @param {string} name
 * @returns {string}
 */
export function safeName(name) {
  let text = String(name).normalize('NFC').replace(UNSAFE, '_');
  const stripped = text.replace(/^[. ]+/, '');
  text = '_'.repeat(text.length - stripped.length) + stripped;
  text = text.replace(/[. ]+$/, '');
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_NAME_BYTES) {
    // Cut at a byte limit, dropping a partial trailing character as Python's errors="ignore" does.
    text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, MAX_NAME_BYTES)).replace(/\uFFFD+$/, '');
    text = text.replace(/[. ]+$/, '');
  }
  if (!text) return 'run';
  if (WINDOWS_DEVICES.has(text.split('.')[0].toUpperCase())) text += '_';
  return text;
}

/**
 * Escape a string for use as a literal inside a regular expression.
 * @param {string} text
 * @returns {string}
 */
export function escapeRegex(text) {
  return String(text).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A regex matching the TensorBoard run names of the given runs, each given as its path of
 * display names from the top-level run down to itself.
 * @param {ReadonlyArray<ReadonlyArray<string>>} paths
 * @returns {string}
 */
export function runRegex(paths) {
  const parts = paths
    .filter((path) => path.length > 0)
    .map((path) => path.map((name) => `${escapeRegex(safeName(name))}(_\\d+)?`).join('/'));
  const unique = [...new Set(parts)];
  if (unique.length === 0) return '';
  const body = unique.length === 1 ? unique[0] : `(${unique.join('|')})`;
  return `(^|/)${body}$`;
}

/**
 * A regex matching exactly the given tags (metric names).
 * @param {ReadonlyArray<string>} tags
 * @returns {string}
 */
export function tagRegex(tags) {
  const unique = [...new Set(tags)].map(escapeRegex);
  if (unique.length === 0) return '';
  return unique.length === 1 ? `^${unique[0]}$` : `^(${unique.join('|')})$`;
}

/**
 * The hash (without "#") that opens the Scalars tab filtered to these runs and tags.
 * @param {{runs: ReadonlyArray<ReadonlyArray<string>>, tags: ReadonlyArray<string>}} what
 * @returns {string}
 */
export function scalarsHash({ runs, tags }) {
  const items = ['scalars'];
  const tagFilter = tagRegex(tags);
  const regexInput = runRegex(runs);
  if (tagFilter) items.push(`tagFilter=${encodeURIComponent(tagFilter)}`);
  if (regexInput) items.push(`regexInput=${encodeURIComponent(regexInput)}`);
  return items.join('&');
}
