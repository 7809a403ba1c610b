// @ts-check
/**
 * The standard charts in a run's details: a confusion matrix as a labelled heatmap, an accuracy
 * table as ROC and precision-recall curves (one line per class), residuals as a histogram and
 * predictions as predicted-versus-true with the identity line. Class labels are user text: the
 * heatmap puts them in cells with textContent, the canvases draw them with fillText, never HTML.
 */

import { api, downloadUrl } from './api.js';
import { runColor, withAlpha } from './lib/colors.js';
import { h, replaceChildren } from './lib/dom.js';
import { formatNumber, formatNumberLong, formatTimestamp } from './lib/format.js';
import { accuracyCurves, bars, heatmapCells, predictionPoints, ticks } from './lib/std-charts.js';

/** Metric kinds drawn here, with the section title of each. */
export const CHART_TITLES = Object.freeze({
  confusion_matrix: 'Confusion matrix',
  accuracy_table: 'ROC and precision-recall',
  residuals: 'Residuals',
  predictions: 'Predicted vs. true',
});

/** @param {string} kind */
export const isStandardChart = (kind) => Object.prototype.hasOwnProperty.call(CHART_TITLES, kind);

/**
 * The section of one chart metric: the latest chart, a step slider when several were logged,
 * and its downloads.
 * @param {string} runId
 * @param {any} metric {name, kind, count}
 * @returns {HTMLElement}
 */
export function chartSection(runId, metric) {
  const body = h('div', { class: 'rh-std-chart-body' }, h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading…');
  const caption = h('div', { class: 'rh-muted' });
  const slider = h('div');
  const links = h('p', { class: 'rh-muted' },
    h('a', { href: downloadUrl(runId, metric.name, 'csv'), download: '' }, 'Download CSV'), ' · ',
    h('a', { href: downloadUrl(runId, metric.name, 'json'), download: '' }, 'JSON'));
  const title = /** @type {Record<string, string>} */ (CHART_TITLES)[metric.kind] ?? metric.kind;
  const el = h('section', { class: 'rh-card rh-detail-section rh-std-chart', 'data-chart-kind': metric.kind, 'data-metric': metric.name },
    h('h3', null, `${title}: ${metric.name}`), body, caption, slider, links);
  let generation = 0;
  const show = (/** @type {number} */ index, /** @type {boolean} */ first) => {
    const mine = ++generation;
    api.chart(runId, metric.name, index).then((chart) => {
      if (mine !== generation) return;
      replaceChildren(body, drawChart(chart));
      caption.textContent = `step ${chart.step} · ${formatTimestamp(chart.wall_time)} · schema ${chart.schema_version}${chart.total > 1 ? ` · ${chart.index + 1} of ${chart.total}` : ''}`;
      if (first && chart.total > 1) {
        replaceChildren(slider, h('input', {
          type: 'range', min: '0', max: String(chart.total - 1), step: '1', 'aria-label': `Step of ${metric.name}`,
          props: { value: String(chart.index) },
          on: { input: (e) => show(Number(/** @type {HTMLInputElement} */ (e.target).value), false) },
        }));
      }
    }, (error) => {
      if (mine === generation) replaceChildren(body, h('p', { class: 'rh-error-text' }, `Could not load the chart: ${error.message}`));
    });
  };
  show(-1, true);
  return el;
}

/**
 * @param {any} chart the /chart answer
 * @returns {HTMLElement}
 */
function drawChart(chart) {
  const data = chart.data ?? {};
  if (chart.kind === 'confusion_matrix') return heatmap(data);
  if (chart.kind === 'accuracy_table') return curves(data);
  if (chart.kind === 'residuals') return canvasFigure(`Histogram of the residuals of ${chart.name}`, (ctx, box) => drawResiduals(ctx, box, data));
  return canvasFigure(`Predicted against true values of ${chart.name}`, (ctx, box) => drawPredictions(ctx, box, data));
}

// -- confusion matrix ---------------------------------------------------------------------------

/** @param {any} data {class_labels, matrix} */
function heatmap(data) {
  const labels = /** @type {unknown[]} */ (data.class_labels ?? []).map(String);
  const matrix = /** @type {number[][]} */ (data.matrix ?? []);
  const { cells, total, correct } = heatmapCells(matrix);
  const accent = cssVar('--rh-accent', '#f57c00');
  const table = h('table', { class: 'rh-heatmap' },
    h('thead', null,
      h('tr', null, h('th', { class: 'rh-heatmap-corner', scope: 'col' }, 'actual \\ predicted'),
        labels.map((label) => h('th', { scope: 'col', class: 'rh-heatmap-label', title: label }, label)))),
    h('tbody', null, cells.map((row, i) => h('tr', null,
      h('th', { scope: 'row', class: 'rh-heatmap-label', title: labels[i] }, labels[i]),
      row.map((cell, j) => h('td', {
        class: `rh-heatmap-cell${i === j ? ' rh-heatmap-diagonal' : ''}${cell.shade > 0.55 ? ' rh-heatmap-dark' : ''}`,
        title: `actual ${labels[i]}, predicted ${labels[j]}: ${formatNumberLong(cell.count)} (${(100 * cell.share).toFixed(1)}% of ${labels[i]})`,
        style: `background-color: ${withAlpha(accent, 0.06 + 0.94 * cell.shade)}`,
      }, formatNumber(cell.count)))))));
  const accuracy = total > 0 ? `accuracy ${(100 * correct / total).toFixed(1)}% (${formatNumber(correct)} of ${formatNumber(total)} on the diagonal)` : 'no samples';
  return h('div', { class: 'rh-heatmap-wrap' }, table, h('p', { class: 'rh-muted' }, `Rows: actual class; columns: predicted; shade: share of the row. ${accuracy}.`));
}

// -- accuracy table -----------------------------------------------------------------------------

/** @param {any} data */
function curves(data) {
  const classes = accuracyCurves(data);
  const roc = canvasFigure('ROC curves, one per class', (ctx, box) => {
    const map = frame(ctx, box, { xlo: 0, xhi: 1, ylo: 0, yhi: 1, xlabel: 'false positive rate', ylabel: 'true positive rate' });
    dashedLine(ctx, map, [0, 0], [1, 1]);
    classes.forEach((c, i) => polyline(ctx, map, c.roc.x, c.roc.y, runColor(i)));
  }, 'rh-roc');
  const pr = canvasFigure('Precision-recall curves, one per class', (ctx, box) => {
    const map = frame(ctx, box, { xlo: 0, xhi: 1, ylo: 0, yhi: 1, xlabel: 'recall', ylabel: 'precision' });
    classes.forEach((c, i) => polyline(ctx, map, c.pr.x, c.pr.y, runColor(i)));
  }, 'rh-pr');
  const legend = h('ul', { class: 'rh-std-legend' }, classes.map((c, i) => h('li', null,
    h('span', { class: 'rh-std-swatch', style: `background-color: ${runColor(i)}` }),
    h('span', { class: 'rh-std-legend-label' }, c.label),
    h('span', { class: 'rh-muted' }, ` AUC ${c.auc === null ? 'n/a' : c.auc.toFixed(3)} · PR area ${c.ap === null ? 'n/a' : c.ap.toFixed(3)}`))));
  return h('div', null, h('div', { class: 'rh-std-pair' }, roc, pr), legend);
}

// -- residuals and predictions ------------------------------------------------------------------

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Box} box
 * @param {any} data
 */
function drawResiduals(ctx, box, data) {
  const items = bars(data.bin_edges ?? [], data.bin_counts ?? []);
  if (!items.length) return;
  const top = Math.max(1, ...items.map((b) => b.count));
  const map = frame(ctx, box, { xlo: items[0].left, xhi: items[items.length - 1].right, ylo: 0, yhi: top, xlabel: 'residual (true − predicted)', ylabel: 'count' });
  const accent = cssVar('--rh-accent', '#f57c00');
  ctx.fillStyle = withAlpha(accent, 0.55);
  ctx.strokeStyle = accent;
  for (const b of items) {
    const x0 = map.x(b.left);
    const x1 = map.x(b.right);
    const y = map.y(b.count);
    ctx.fillRect(x0 + 0.5, y, Math.max(1, x1 - x0 - 1), map.y(0) - y);
    ctx.strokeRect(x0 + 0.5, y, Math.max(1, x1 - x0 - 1), map.y(0) - y);
  }
  dashedLine(ctx, map, [0, 0], [0, top]); // zero residual
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Box} box
 * @param {any} data
 */
function drawPredictions(ctx, box, data) {
  const { points, lo, hi } = predictionPoints(data);
  const map = frame(ctx, box, { xlo: lo, xhi: hi, ylo: lo, yhi: hi, xlabel: 'true value (bin centre)', ylabel: 'mean predicted value' });
  dashedLine(ctx, map, [lo, lo], [hi, hi]); // perfect predictions
  const color = runColor(0);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  for (const p of points) {
    ctx.beginPath();
    ctx.moveTo(map.x(p.x), map.y(p.y - p.error));
    ctx.lineTo(map.x(p.x), map.y(p.y + p.error));
    ctx.stroke();
  }
  polyline(ctx, map, points.map((p) => p.x), points.map((p) => p.y), color);
  for (const p of points) {
    ctx.beginPath();
    ctx.arc(map.x(p.x), map.y(p.y), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// -- canvas plumbing ----------------------------------------------------------------------------

/** @typedef {{width: number, height: number}} Box */
/** @typedef {{x: (v: number) => number, y: (v: number) => number}} Mapping */

/**
 * A canvas that (re)draws itself at its laid-out size and device pixel ratio.
 * @param {string} label accessible description
 * @param {(ctx: CanvasRenderingContext2D, box: Box) => void} draw
 * @param {string} [extraClass]
 */
function canvasFigure(label, draw, extraClass = '') {
  const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: `rh-std-canvas ${extraClass}`.trim(), width: '420', height: '300', role: 'img', 'aria-label': label }));
  const paint = () => {
    const width = canvas.clientWidth || 420;
    const height = canvas.clientHeight || 300;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    draw(ctx, { width, height });
  };
  requestAnimationFrame(paint);
  new ResizeObserver(paint).observe(canvas);
  return canvas;
}

/**
 * Axes with round ticks and labels; returns the value-to-pixel mapping of the plot area.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Box} box
 * @param {{xlo: number, xhi: number, ylo: number, yhi: number, xlabel: string, ylabel: string}} range
 * @returns {Mapping}
 */
function frame(ctx, box, { xlo, xhi, ylo, yhi, xlabel, ylabel }) {
  const left = 48;
  const right = 12;
  const top = 10;
  const bottom = 38;
  const w = Math.max(1, box.width - left - right);
  const hgt = Math.max(1, box.height - top - bottom);
  const spanX = xhi > xlo ? xhi - xlo : 1;
  const spanY = yhi > ylo ? yhi - ylo : 1;
  const map = { x: (/** @type {number} */ v) => left + ((v - xlo) / spanX) * w, y: (/** @type {number} */ v) => top + hgt - ((v - ylo) / spanY) * hgt };
  const text = cssVar('--rh-text-secondary', '#616161');
  ctx.strokeStyle = cssVar('--rh-grid', 'rgba(0,0,0,0.08)');
  ctx.fillStyle = text;
  ctx.font = '11px Roboto, sans-serif';
  ctx.lineWidth = 1;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of ticks(xlo, xhi)) {
    ctx.beginPath();
    ctx.moveTo(map.x(t), top);
    ctx.lineTo(map.x(t), top + hgt);
    ctx.stroke();
    ctx.fillText(formatNumber(t), map.x(t), top + hgt + 4);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of ticks(ylo, yhi)) {
    ctx.beginPath();
    ctx.moveTo(left, map.y(t));
    ctx.lineTo(left + w, map.y(t));
    ctx.stroke();
    ctx.fillText(formatNumber(t), left - 4, map.y(t));
  }
  ctx.strokeStyle = cssVar('--rh-border-strong', '#c6c6c6');
  ctx.strokeRect(left, top, w, hgt);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xlabel, left + w / 2, box.height - 2);
  ctx.save();
  ctx.translate(11, top + hgt / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(ylabel, 0, 0);
  ctx.restore();
  return map;
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Mapping} map
 * @param {number[]} xs
 * @param {number[]} ys
 * @param {string} color
 */
function polyline(ctx, map, xs, ys, color) {
  if (!xs.length) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash([]);
  ctx.beginPath();
  xs.forEach((x, i) => (i === 0 ? ctx.moveTo(map.x(x), map.y(ys[i])) : ctx.lineTo(map.x(x), map.y(ys[i]))));
  ctx.stroke();
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Mapping} map
 * @param {[number, number]} from
 * @param {[number, number]} to
 */
function dashedLine(ctx, map, from, to) {
  ctx.save();
  ctx.strokeStyle = cssVar('--rh-text-secondary', '#616161');
  ctx.lineWidth = 1;
  ctx.setLineDash([5, 4]);
  ctx.beginPath();
  ctx.moveTo(map.x(from[0]), map.y(from[1]));
  ctx.lineTo(map.x(to[0]), map.y(to[1]));
  ctx.stroke();
  ctx.restore();
}

/**
 * @param {string} name
 * @param {string} fallback
 */
function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}
