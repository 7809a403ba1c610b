// @ts-check
/**
 * CSV text for client-side downloads (the runs table, the sweep matrix): RFC 4180 quoting, and
 * text cells that a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1", "@cmd") get a
 * leading apostrophe, since run names and tags are user-written (OWASP "CSV injection").
 */

/**
 * One cell: numbers as their shortest round-trip text (NaN, inf, -inf spelled as the server's
 * CSV downloads do), null and undefined as "", everything else as quoted-if-needed text.
 * @param {unknown} value
 * @returns {string}
 */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (value === Infinity) return 'inf';
    if (value === -Infinity) return '-inf';
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A whole CSV document, "\n"-terminated lines.
 * @param {ReadonlyArray<string>} header
 * @param {Iterable<ReadonlyArray<unknown>>} rows
 * @returns {string}
 */
export function toCSV(header, rows) {
  const lines = [header.map(csvCell).join(',')];
  for (const row of rows) lines.push(row.map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}
