// @ts-check
/**
 * The marks a chart draws over its lines so extremes are never lost (see lib/extremes.js for
 * which): stems and dots on lone spikes, triangles and value labels at the edge for what the y
 * range clips, and the tooltip's snap to a marked bucket.
 */

import { h, replaceChildren } from './lib/dom.js';
import { findExtremes } from './lib/extremes.js';
import { formatNumber } from './lib/format.js';

/** @typedef {import('./vendor/uPlot.esm.js')} uPlot */
/** @typedef {import('./lib/chart-data.js').ChartData} ChartData */
/** @typedef {import('./chart.js').ChartRun} ChartRun */
/** @typedef {{value: number, side: 'min' | 'max', x: number, name: string}} Clipped an extreme outside the y range; x in CSS px */

const CLIP_LABELS = 6; // clipped extremes labelled with their value, per chart
const SNAP_PX = 5; // the tooltip snaps to a marked extreme this close to the cursor

/**
 * The first index of ascending `xs` at or after `x`.
 * @param {ArrayLike<number>} xs
 * @param {number} x
 */
function lowerBound(xs, x) {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Mark the bucket extremes a line hides: a stem and a dot where a bucket's min or max stands
 * out from its neighbours, a triangle at the plot's edge (and a label with the value) where it
 * is outside the y range.
 * @param {uPlot} u
 * @param {ChartData | null} chart
 * @param {ReadonlyArray<ChartRun>} runs
 * @param {Set<number>} marked filled with the data indices marked (the tooltip snaps to them)
 * @returns {Clipped[]} the extremes outside the y range
 */
export function drawExtremes(u, chart, runs, marked) {
  const { min: xMin, max: xMax } = u.scales.x;
  const { min: yMin, max: yMax } = u.scales.y;
  /** @type {Clipped[]} */
  const clipped = [];
  if (chart && xMin != null && xMax != null && yMin != null && yMax != null) {
    const xs = chart.data[0];
    const i0 = Math.max(0, lowerBound(xs, xMin) - 1);
    const i1 = Math.min(xs.length - 1, lowerBound(xs, xMax));
    const byId = new Map(runs.map((r) => [r.id, r]));
    const dpr = devicePixelRatio || 1;
    const { ctx } = u;
    const { left, top, height } = u.bbox;
    const size = 4 * dpr;
    marked.clear();
    ctx.save();
    ctx.lineWidth = dpr;
    for (const r of chart.runs) {
      if (r.min < 0) continue;
      const run = byId.get(r.run);
      const line = chart.data[r.raw];
      const marks = findExtremes({ line, min: chart.data[r.min], max: chart.data[r.max] }, (v) => u.valToPos(v, 'y'), { lo: yMin, hi: yMax }, i0, i1);
      ctx.fillStyle = ctx.strokeStyle = run?.color ?? '#888';
      for (const m of marks) {
        marked.add(m.index);
        const x = left + u.valToPos(xs[m.index], 'x') * dpr;
        ctx.beginPath();
        if (m.clipped) {
          const edge = m.side === 'max' ? top : top + height;
          const inward = m.side === 'max' ? 1 : -1;
          ctx.moveTo(x, edge);
          ctx.lineTo(x - size, edge + inward * size * 1.6);
          ctx.lineTo(x + size, edge + inward * size * 1.6);
          ctx.closePath();
          ctx.fill();
          clipped.push({ value: m.value, side: m.side, x: x / dpr, name: run?.name ?? r.run });
        } else {
          const y = u.valToPos(m.value, 'y', true);
          ctx.moveTo(x, u.valToPos(/** @type {number} */ (line[m.index]), 'y', true));
          ctx.lineTo(x, y);
          ctx.stroke();
          ctx.beginPath();
          ctx.arc(x, y, size * 0.7, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }
    ctx.restore();
  }
  return clipped;
}

/**
 * Text labels for the clipped extremes farthest out.
 * @param {HTMLElement} el the layer over the plot
 * @param {uPlot} u
 * @param {Clipped[]} clipped
 */
export function renderClipLabels(el, u, clipped) {
  const dpr = devicePixelRatio || 1;
  const shown = [...clipped].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, CLIP_LABELS);
  const top = u.bbox.top / dpr;
  const bottom = (u.bbox.top + u.bbox.height) / dpr;
  replaceChildren(el, shown.map((c) => h('span', {
    class: ['rh-clip-label', c.side === 'min' && 'rh-clip-label-min'],
    title: `${c.name}: a bucket's ${c.side} is ${formatNumber(c.value)}, outside the y range ("Ignore outliers" is on)`,
    style: { left: `${c.x + 7}px`, top: c.side === 'max' ? `${top}px` : `${bottom - 16}px` },
  }, `${c.side === 'max' ? '▲' : '▼'} ${formatNumber(c.value)}`)));
}

/**
 * A marked spike is one bucket wide (often one pixel): within a few pixels of one, the tooltip
 * shows that bucket rather than the neighbour the cursor happens to be nearest.
 * @param {uPlot} u
 * @param {ChartData} chart
 * @param {Set<number>} marked
 * @param {number} idx
 * @param {number} left cursor x, CSS px in the plot area
 */
export function snapToMark(u, chart, marked, idx, left) {
  if (marked.size === 0) return idx;
  const xs = chart.data[0];
  let best = idx;
  let bestDistance = SNAP_PX + 1;
  for (let j = Math.max(0, idx - 50); j <= Math.min(xs.length - 1, idx + 50); j++) {
    if (!marked.has(j)) continue;
    const distance = Math.abs(u.valToPos(xs[j], 'x') - left);
    if (distance < bestDistance) {
      best = j;
      bestDistance = distance;
    }
  }
  return best;
}
