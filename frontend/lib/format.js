// @ts-check
/**
 * Parsing and display formatting of numbers, durations, timestamps and run statuses.
 *
 * Pure functions, no DOM. Every formatter returns "" for a missing value (null, undefined,
 * unparseable) so a view can decide its own placeholder.
 *
 * Time units (one convention everywhere, TensorBoard's): a bare number is SECONDS since the
 * Unix epoch, like TensorBoard's `wall_time` and Python's `time.time()`; strings are ISO 8601
 * (or numeric seconds); `Date` objects are accepted. Durations are in milliseconds.
 */

/** At or above this magnitude numbers switch to exponent notation (as TensorBoard). */
const LARGE_NUMBER = 1e4;
/** Below this magnitude (and not 0) numbers switch to exponent notation (as TensorBoard). */
const SMALL_NUMBER = 1e-3;

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Relative timestamps older than this fall back to a calendar date. */
const RELATIVE_LIMIT_MS = 30 * DAY_MS;
/** Differences below this read "just now" (clock skew between hosts is common). */
const JUST_NOW_MS = 5 * SECOND_MS;

/** @typedef {number | string | null | undefined} NumberLike */
/** @typedef {number | string | Date | null | undefined} TimeLike */

/**
 * Parse a value from the server into a number, or null when it is missing.
 *
 * TensorBoard's JSON responder turns NaN and infinities into the strings "NaN", "Infinity" and
 * "-Infinity"; those come back as the real values. Other non-numeric input gives null.
 * @param {unknown} value
 * @returns {number | null}
 */
export function parseNumber(value) {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return null;
  const s = value.trim();
  switch (s.toLowerCase()) {
    case '':
      return null;
    case 'nan':
      return NaN;
    case 'infinity':
    case '+infinity':
    case 'inf':
      return Infinity;
    case '-infinity':
    case '-inf':
      return -Infinity;
  }
  const x = Number(s);
  return Number.isNaN(x) ? null : x;
}

/**
 * Drop trailing zeros of a decimal mantissa ("1.500" -> "1.5", "2.00" -> "2").
 * @param {string} s
 */
function trimZeros(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * Exponent notation with 3 significant digits, zeros trimmed: 12345 -> "1.23e+4".
 * @param {number} x
 */
function formatExponent(x) {
  const [mantissa, exponent] = x.toExponential(2).split('e');
  return `${trimZeros(mantissa)}e${exponent}`;
}

/**
 * Format a number compactly, like TensorBoard's chart labels.
 *
 * 4 significant digits ("0.1235", "1235", "1.5"), exponent notation with 3 significant digits
 * at |x| >= 1e4 or |x| < 1e-3 ("1.23e+4", "5e-7"), "NaN", "Infinity", "-Infinity"; "" if missing.
 * @param {NumberLike} value
 * @returns {string}
 */
export function formatNumber(value) {
  const x = parseNumber(value);
  if (x === null) return '';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= LARGE_NUMBER || abs < SMALL_NUMBER) return formatExponent(x);
  const s = x.toPrecision(4);
  // 9999.5 rounds up to "1.000e+4": keep one notation per magnitude.
  return s.includes('e') ? formatExponent(x) : trimZeros(s);
}

/**
 * Format a count or step compactly for an axis: "950", "12.5k", "3M", "1.2B" (3 significant
 * digits past 1,000); non-integers below 1,000 as `formatNumber`; "" if missing.
 * @param {NumberLike} value
 * @returns {string}
 */
export function formatCompact(value) {
  const x = parseNumber(value);
  if (x === null) return '';
  if (!Number.isFinite(x)) return formatNumber(x);
  const abs = Math.abs(x);
  if (abs < 1000) return Number.isInteger(x) ? String(x) : formatNumber(x);
  const units = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of /** @type {Array<[number, string]>} */ (units)) {
    if (abs >= size * 0.9995) return `${trimZeros((x / size).toPrecision(3))}${suffix}`;
  }
  return String(x);
}

/**
 * Format a number without losing precision (for `title` attributes and copying).
 * @param {NumberLike} value
 * @returns {string}
 */
export function formatNumberLong(value) {
  const x = parseNumber(value);
  return x === null ? '' : String(x);
}

/** @param {number} n */
function pad2(n) {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Format a duration in milliseconds: "850ms", "45.2s", "12m 05s", "2h 03m", "3d 04h".
 *
 * Units are truncated, never rounded up, so "1h 59m" is not shown as "2h 00m" early.
 * Negative durations (clock skew) keep their sign; non-finite or missing values give "".
 * @param {number | null | undefined} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < SECOND_MS) return `${sign}${Math.floor(abs)}ms`;
  if (abs < MINUTE_MS) return `${sign}${(Math.floor(abs / 100) / 10).toFixed(1)}s`;
  if (abs < HOUR_MS) {
    const totalSeconds = Math.floor(abs / SECOND_MS);
    return `${sign}${Math.floor(totalSeconds / 60)}m ${pad2(totalSeconds % 60)}s`;
  }
  if (abs < DAY_MS) {
    const totalMinutes = Math.floor(abs / MINUTE_MS);
    return `${sign}${Math.floor(totalMinutes / 60)}h ${pad2(totalMinutes % 60)}m`;
  }
  const totalHours = Math.floor(abs / HOUR_MS);
  return `${sign}${Math.floor(totalHours / 24)}d ${pad2(totalHours % 24)}h`;
}

/**
 * Convert a time value to milliseconds since the epoch, or null when missing or invalid.
 *
 * Numbers (and numeric strings) are seconds since the epoch; other strings go through
 * `Date.parse` (ISO 8601).
 * @param {TimeLike} t
 * @returns {number | null}
 */
export function toEpochMs(t) {
  if (t instanceof Date) {
    const ms = t.getTime();
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof t === 'number') return Number.isFinite(t) ? t * SECOND_MS : null;
  if (typeof t !== 'string' || t.trim() === '') return null;
  const seconds = Number(t);
  if (Number.isFinite(seconds)) return seconds * SECOND_MS;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Milliseconds between two time values, or null if either is missing.
 * @param {TimeLike} start
 * @param {TimeLike} end
 * @returns {number | null}
 */
export function durationMs(start, end) {
  const a = toEpochMs(start);
  const b = toEpochMs(end);
  return a === null || b === null ? null : b - a;
}

/**
 * Format an absolute timestamp as "2024-01-05 13:04:05" (local time unless `utc`).
 *
 * Locale-independent and sortable on purpose: run tables are compared across machines.
 * @param {TimeLike} t
 * @param {{utc?: boolean, dateOnly?: boolean}} [options]
 * @returns {string}
 */
export function formatTimestamp(t, { utc = false, dateOnly = false } = {}) {
  const ms = toEpochMs(t);
  if (ms === null) return '';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return ''; // beyond the +-8.64e15 ms Date range
  const parts = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const [year, month, day, hours, minutes, seconds] = parts;
  const date = `${year}-${pad2(month)}-${pad2(day)}`;
  return dateOnly ? date : `${date} ${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}`;
}

/**
 * Format a timestamp relative to now: "just now", "12s ago", "5m ago", "3h ago", "4d ago",
 * "in 5m"; 30 days or more away gives the local calendar date ("2024-01-05").
 * @param {TimeLike} t
 * @param {number} [nowMs] current time in milliseconds since the epoch (default `Date.now()`)
 * @returns {string}
 */
export function formatRelativeTime(t, nowMs = Date.now()) {
  const ms = toEpochMs(t);
  if (ms === null) return '';
  const delta = nowMs - ms;
  const abs = Math.abs(delta);
  if (abs < JUST_NOW_MS) return 'just now';
  if (abs >= RELATIVE_LIMIT_MS) return formatTimestamp(t, { dateOnly: true });
  let text;
  if (abs < MINUTE_MS) text = `${Math.floor(abs / SECOND_MS)}s`;
  else if (abs < HOUR_MS) text = `${Math.floor(abs / MINUTE_MS)}m`;
  else if (abs < DAY_MS) text = `${Math.floor(abs / HOUR_MS)}h`;
  else text = `${Math.floor(abs / DAY_MS)}d`;
  return delta > 0 ? `${text} ago` : `in ${text}`;
}

/**
 * `stalled`: the run says Running but its process stopped sending heartbeats (this project's
 * "NotResponding").
 * @typedef {'running' | 'stalled' | 'pending' | 'finished' | 'failed' | 'killed' | 'unknown'} StatusKind
 */

/** The status kinds, in the order a status filter lists them. */
export const STATUS_KINDS = /** @type {ReadonlyArray<StatusKind>} */ (
  Object.freeze(['running', 'stalled', 'pending', 'finished', 'failed', 'killed', 'unknown'])
);

/** @type {ReadonlyMap<string, StatusKind>} */
const STATUS_ALIASES = new Map([
  ['running', 'running'], ['started', 'running'], ['active', 'running'],
  ['pending', 'pending'], ['queued', 'pending'], ['scheduled', 'pending'], ['created', 'pending'],
  ['finished', 'finished'], ['completed', 'finished'], ['complete', 'finished'],
  ['succeeded', 'finished'], ['success', 'finished'], ['done', 'finished'],
  ['failed', 'failed'], ['failure', 'failed'], ['error', 'failed'], ['errored', 'failed'],
  ['crashed', 'failed'],
  ['killed', 'killed'], ['cancelled', 'killed'], ['canceled', 'killed'], ['stopped', 'killed'],
  ['aborted', 'killed'], ['interrupted', 'killed'],
  ['notresponding', 'stalled'], ['not_responding', 'stalled'], ['not responding', 'stalled'],
  ['unresponsive', 'stalled'], ['stalled', 'stalled'], ['stale', 'stalled'], ['lost', 'stalled'],
]);

/** Labels in this project's vocabulary (`Run.complete()` gives "Completed", `cancel()` "Canceled"). */
/** @type {Readonly<Record<StatusKind, string>>} */
const STATUS_LABELS = Object.freeze({
  running: 'Running',
  stalled: 'Not responding',
  pending: 'Pending',
  finished: 'Completed',
  failed: 'Failed',
  killed: 'Canceled',
  unknown: 'Unknown',
});

/**
 * Normalise a status string from any backend to one of `STATUS_KINDS` (case-insensitive).
 * @param {unknown} status
 * @returns {StatusKind}
 */
export function statusKind(status) {
  if (typeof status !== 'string') return 'unknown';
  return STATUS_ALIASES.get(status.trim().toLowerCase()) ?? 'unknown';
}

/**
 * Human label for a status: "Running", "Completed", ...; an unrecognised non-empty status is
 * shown as given (it is still plain text for the caller to set through `textContent`).
 * @param {unknown} status
 * @returns {string}
 */
export function statusLabel(status) {
  const kind = statusKind(status);
  if (kind === 'unknown' && typeof status === 'string' && status.trim() !== '') {
    return status.trim();
  }
  return STATUS_LABELS[kind];
}

/**
 * A name split for a middle ellipsis: the start (which CSS may cut with "…") and the end, kept
 * whole because that is where sweep children differ (`…alpha0.1` vs `…alpha0.2`).
 * @param {string} text
 * @param {number} [keep] characters of the end kept at most
 * @returns {[string, string]}
 */
export function splitForEllipsis(text, keep = 14) {
  const s = String(text);
  const end = Math.min(keep, Math.ceil(s.length / 2));
  return [s.slice(0, s.length - end), s.slice(s.length - end)];
}
