// @ts-check
/**
 * Row virtualisation for long lists: which rows to put in the DOM for a scroll position, so a
 * table of 10,000 runs costs as much to draw (and to re-filter on each keystroke) as one screen.
 */

/**
 * The rows [start, end) to render: the ones in view plus `overscan` rows on each side.
 * @param {{scrollTop: number, height: number, rowHeight: number, count: number, overscan?: number}} view
 * @returns {{start: number, end: number, offset: number, total: number}} `offset`: the pixel top
 *   of row `start`; `total`: the pixel height of all rows
 */
export function visibleRange({ scrollTop, height, rowHeight, count, overscan = 8 }) {
  const rows = Math.max(0, Math.floor(count));
  const h = rowHeight > 0 ? rowHeight : 1;
  const total = rows * h;
  const top = Math.min(Math.max(0, scrollTop || 0), Math.max(0, total - Math.max(0, height || 0)));
  const first = Math.floor(top / h);
  const last = Math.ceil((top + Math.max(0, height || 0)) / h);
  const start = Math.max(0, first - overscan);
  const end = Math.min(rows, last + overscan);
  return { start, end: Math.max(start, end), offset: start * h, total };
}

/**
 * The scrollTop that brings row `index` into view with the least movement (unchanged if it is).
 * @param {{scrollTop: number, height: number, rowHeight: number, index: number}} view
 * @returns {number}
 */
export function scrollToRow({ scrollTop, height, rowHeight, index }) {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return Math.max(0, top + rowHeight - height);
  return scrollTop;
}
