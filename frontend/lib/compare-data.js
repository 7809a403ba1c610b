// @ts-check
/**
 * The rows of the compare view: for 2 to 20 runs side by side, their fields, properties, tags
 * and metric summaries, each row flagged when its values differ. Pure: compare.js renders.
 */

import { formatNumber } from './format.js';

/**
 * What the compare view knows of one run.
 * @typedef {Object} ComparedRun
 * @property {string} id
 * @property {Record<string, unknown>} fields status, start time, ... already formatted as text
 * @property {Record<string, unknown>} properties
 * @property {Record<string, unknown>} tags
 * @property {Record<string, {last: number | null, min?: number | null, max?: number | null, count?: number}>} metrics scalar summaries
 */

/**
 * One row: a section ("Run", "Properties", "Tags", "Metrics"), a key and one text per run.
 * @typedef {Object} CompareRow
 * @property {string} section
 * @property {string} key
 * @property {string[]} values "" where the run has no value
 * @property {boolean} differs not every run has the same text
 */

/** Fewest and most runs compared side by side. */
export const MIN_COMPARED = 2;
export const MAX_COMPARED = 20;

/** @param {unknown} v */
function text(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A metric summary as one cell: the last value, then the range of every value when known.
 * @param {{last: number | null, min?: number | null, max?: number | null, count?: number} | undefined} m
 */
export function metricText(m) {
  if (!m) return '';
  const last = m.last === null ? '' : formatNumber(m.last);
  if (m.min === undefined || m.min === null || m.max === undefined || m.max === null || m.count === 1) return last;
  return `${last} (min ${formatNumber(m.min)}, max ${formatNumber(m.max)})`;
}

/**
 * The rows of the compare table; `onlyDifferences` drops rows whose values are all equal.
 * @param {ReadonlyArray<ComparedRun>} runs
 * @param {{onlyDifferences?: boolean}} [options]
 * @returns {CompareRow[]}
 */
export function compareRows(runs, { onlyDifferences = false } = {}) {
  /** @type {CompareRow[]} */
  const rows = [];
  /**
   * @param {string} section
   * @param {(run: ComparedRun) => Record<string, unknown>} pick
   * @param {(value: any) => string} [format]
   */
  const add = (section, pick, format = text) => {
    const keys = [...new Set(runs.flatMap((run) => Object.keys(pick(run))))];
    if (section !== 'Run') keys.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    for (const key of keys) {
      const values = runs.map((run) => (Object.hasOwn(pick(run), key) ? format(pick(run)[key]) : ''));
      const differs = values.some((v) => v !== values[0]);
      if (!onlyDifferences || differs) rows.push({ section, key, values, differs });
    }
  };
  add('Run', (run) => run.fields);
  add('Properties', (run) => run.properties);
  add('Tags', (run) => run.tags);
  add('Metrics', (run) => run.metrics, metricText);
  return rows;
}
