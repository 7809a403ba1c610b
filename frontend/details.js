// @ts-check
/**
 * The Details view of one run: where it sits (ancestors), status, times, description, the error
 * and traceback of a failed run, tags, properties, every metric (with downloads and a link to
 * the Scalars tab), tables, images, histograms, the standard charts and files. Everything
 * user-written is text.
 */

import { api, downloadUrl, fileUrl, imageUrl } from './api.js';
import { h, replaceChildren } from './lib/dom.js';
import { formatDuration, formatNumber, formatNumberLong, formatRelativeTime, formatTimestamp, statusKind, statusLabel, toEpochMs } from './lib/format.js';
import { ridgeLayout } from './lib/histogram-layout.js';
import { withAlpha } from './lib/colors.js';
import { chartSection, isStandardChart } from './std-charts.js';

/**
 * @typedef {Object} DetailsCallbacks
 * @property {(id: string) => void} focus
 * @property {(ids: string[], mode: 'only' | 'toggle') => void} select
 * @property {(metric: string, runIds: string[]) => void} openInScalars
 */

const TABLE_ROWS = 200; // rows shown per table (the download has them all)

/** @param {number} bytes */
function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/**
 * @param {string} title
 * @param {...import('./lib/dom.js').Child} children
 */
function section(title, ...children) {
  return h('section', { class: 'rh-card rh-detail-section' }, h('h3', null, title), ...children);
}

export class DetailsView {
  /** @param {DetailsCallbacks} callbacks */
  constructor(callbacks) {
    this.callbacks = callbacks;
    /** @type {string | null} */
    this.runId = null;
    /** @type {any} */
    this.detail = null;
    /** @type {string | null} */
    this.error = null;
    this.generation = 0;
    this.el = h('div', { class: 'rh-details' });
    /** @type {Map<string, HTMLElement>} extra sections (tables, images, histograms) by metric */
    this.extras = new Map();
  }

  /** @param {string | null} runId */
  update(runId) {
    if (runId === this.runId) return;
    this.runId = runId;
    this.detail = null;
    this.error = null;
    this.extras = new Map();
    if (runId) void this.load();
    else this.render();
  }

  refresh() {
    if (this.runId) void this.load({ quiet: true });
  }

  /** Whether the run shown is still running (the app polls it). */
  isLive() {
    return statusKind(this.detail?.run?.status) === 'running';
  }

  /** @param {{quiet?: boolean}} [options] */
  async load({ quiet = false } = {}) {
    const runId = this.runId;
    if (!runId) return;
    const generation = ++this.generation;
    if (!quiet) this.render();
    try {
      const detail = await api.run(runId);
      if (generation !== this.generation) return;
      const firstLoad = this.detail === null;
      this.detail = detail;
      this.error = null;
      if (firstLoad || !quiet) this.extras = new Map();
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.render();
  }

  render() {
    const d = this.detail;
    if (!this.runId) {
      replaceChildren(this.el, h('div', { class: 'rh-empty' }, h('strong', null, 'No run chosen.'), ' Click a run in the table to see its tags, properties, error, metrics, tables, images, histograms and files.'));
      return;
    }
    if (this.error) {
      replaceChildren(this.el, h('div', { class: 'rh-empty rh-error' }, h('strong', null, 'Could not load this run. '), this.error, ' ', h('button', { class: 'rh-btn rh-btn-small', type: 'button', on: { click: () => this.load() } }, 'Retry')));
      return;
    }
    if (!d) {
      replaceChildren(this.el, h('div', { class: 'rh-empty' }, h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading the run…'));
      return;
    }
    const run = d.run;
    const kind = statusKind(run.status);
    const metrics = /** @type {any[]} */ (d.metrics);
    const start = toEpochMs(run.start_time);
    const end = toEpochMs(run.end_time) ?? (kind === 'running' ? Date.now() : null);
    replaceChildren(
      this.el,
      h(
        'header',
        { class: 'rh-detail-header' },
        h('nav', { class: 'rh-breadcrumb', 'aria-label': 'Ancestors' },
          h('span', { class: 'rh-muted' }, d.experiment.name),
          d.ancestors.map((/** @type {any} */ a) => [h('span', { class: 'rh-muted' }, ' › '), h('button', { class: 'rh-link-btn', type: 'button', on: { click: () => this.callbacks.focus(a.id) } }, a.display_name)])),
        h('div', { class: 'rh-detail-title' },
          h('h2', { class: 'rh-name' }, run.display_name),
          h('span', { class: `rh-status rh-status-${kind}` }, statusLabel(run.status)),
          h('span', { class: 'rh-spacer' }),
          h('span', { class: 'rh-muted' }, 'Download run: '),
          h('a', { class: 'rh-btn rh-btn-small', href: downloadUrl(run.id, null, 'csv'), download: '' }, 'CSV'),
          h('a', { class: 'rh-btn rh-btn-small', href: downloadUrl(run.id, null, 'json'), download: '' }, 'JSON')),
        h('dl', { class: 'rh-facts' },
          fact('Run id', h('code', null, run.id)),
          fact('Started', run.start_time ? `${formatTimestamp(run.start_time)} (${formatRelativeTime(run.start_time)})` : ''),
          fact('Ended', run.end_time ? formatTimestamp(run.end_time) : kind === 'running' ? 'still running' : ''),
          fact('Duration', start !== null && end !== null ? formatDuration(end - start) : ''),
          run.heartbeat_time && (kind === 'running' || kind === 'stalled') && fact('Last heartbeat', `${formatRelativeTime(run.heartbeat_time)}`),
          run.child_count > 0 && fact('Children', String(run.child_count)),
          run.run_type && fact('Type', run.run_type),
          run.logs_dir && fact('Logs', h('code', null, run.logs_dir))),
      ),
      run.description && section('Description', h('p', { class: 'rh-description' }, run.description)),
      (run.error || run.traceback || run.error_code) && section('Error',
        run.error && h('p', { class: 'rh-error-text' }, run.error),
        run.error_code && h('p', { class: 'rh-error-code' }, 'Code: ', h('code', null, run.error_code)),
        run.traceback && h('pre', { class: 'rh-traceback' }, run.traceback)),
      section('Tags', Object.keys(run.tags).length
        ? h('div', { class: 'rh-tag-list' }, Object.entries(run.tags).map(([k, v]) => h('span', { class: 'rh-tag' }, v === '' || v === null ? k : `${k}: ${v}`)))
        : h('p', { class: 'rh-muted' }, 'No tags. Add some with run.tag(key, value).')),
      section('Properties', Object.keys(run.properties).length
        ? keyValueTable(run.properties)
        : h('p', { class: 'rh-muted' }, 'No properties. Record facts with run.add_properties({...}).')),
      section(`Metrics (${metrics.length})`, metrics.length ? this.metricsTable(run.id, metrics) : h('p', { class: 'rh-muted' }, 'Nothing logged yet.')),
      metrics.filter((m) => m.kind === 'table').map((m) => this.extra(`table:${m.name}`, () => this.tableSection(run.id, m))),
      metrics.filter((m) => m.kind === 'image').map((m) => this.extra(`image:${m.name}`, () => this.imageSection(run.id, m))),
      metrics.filter((m) => m.kind === 'histogram').map((m) => this.extra(`histogram:${m.name}`, () => this.histogramSection(run.id, m))),
      metrics.filter((m) => isStandardChart(m.kind)).map((m) => this.extra(`${m.kind}:${m.name}:${m.count}`, () => chartSection(run.id, m))),
      section(`Files (${d.files.length})`, d.files.length
        ? h('table', { class: 'rh-table' },
          h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Size'), h('th', null, 'Uploaded'))),
          h('tbody', null, d.files.map((/** @type {any} */ f) => h('tr', null,
            h('td', null, h('a', { href: fileUrl(run.id, f.name), download: f.name.split('/').pop() }, h('code', null, f.name))),
            h('td', { class: 'rh-num' }, formatBytes(f.size)),
            h('td', { title: formatTimestamp(f.created_at) }, formatRelativeTime(f.created_at))))))
        : h('p', { class: 'rh-muted' }, 'No files. Attach some with run.upload_file(name, path).')),
    );
  }

  /**
   * A section that loads its data once per run (kept across live refreshes).
   * @param {string} key
   * @param {() => HTMLElement} make
   */
  extra(key, make) {
    let el = this.extras.get(key);
    if (!el) {
      el = make();
      this.extras.set(key, el);
    }
    return el;
  }

  /**
   * @param {string} runId
   * @param {any[]} metrics
   */
  metricsTable(runId, metrics) {
    return h('table', { class: 'rh-table' },
      h('thead', null, h('tr', null, ['Name', 'Kind', 'Points', 'Last step', 'Last value', ''].map((t) => h('th', null, t)))),
      h('tbody', null, metrics.map((m) => h('tr', { 'data-metric': m.name },
        h('td', { class: 'rh-name', title: m.description || m.name }, m.name),
        h('td', null, m.kind),
        h('td', { class: 'rh-num' }, Number(m.count).toLocaleString('en-US')),
        h('td', { class: 'rh-num' }, m.last_step ?? ''),
        h('td', { class: 'rh-num', title: formatNumberLong(m.last_value) }, m.kind === 'scalar' ? formatNumber(m.last_value) : ''),
        h('td', { class: 'rh-actions' },
          m.kind === 'scalar' && h('button', { class: 'rh-link-btn', type: 'button', title: "Open TensorBoard's Scalars tab on this run and metric", on: { click: () => this.callbacks.openInScalars(m.name, [runId]) } }, 'Open in Scalars'),
          h('a', { href: downloadUrl(runId, m.name, 'csv'), download: '' }, 'CSV'),
          h('a', { href: downloadUrl(runId, m.name, 'json'), download: '' }, 'JSON'))))));
  }

  /**
   * @param {string} runId
   * @param {any} metric
   */
  tableSection(runId, metric) {
    const body = h('div', { class: 'rh-table-wrap' }, h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading…');
    const el = section(`Table: ${metric.name}`, body);
    api.table(runId, metric.name).then((t) => {
      const names = /** @type {string[]} */ (t.column_names);
      const rows = Math.min(t.row_count, TABLE_ROWS);
      replaceChildren(body,
        h('table', { class: 'rh-table' },
          h('thead', null, h('tr', null, names.map((n) => h('th', { class: typeof t.columns[n][0] === 'number' ? 'rh-num' : undefined }, n)))),
          h('tbody', null, Array.from({ length: rows }, (_, i) => h('tr', null, names.map((n) => {
            const cell = t.columns[n][i];
            const numeric = typeof cell === 'number';
            return h('td', { class: numeric ? 'rh-num' : undefined, title: numeric ? formatNumberLong(cell) : null }, cell === null || cell === undefined ? '' : numeric ? formatNumber(cell) : String(cell));
          }))))),
        h('p', { class: 'rh-muted' },
          t.row_count > rows ? `Showing ${rows} of ${t.row_count.toLocaleString('en-US')} rows. ` : '',
          h('a', { href: downloadUrl(runId, metric.name, 'csv'), download: '' }, 'Download CSV')));
    }, (error) => replaceChildren(body, h('p', { class: 'rh-error-text' }, `Could not load the table: ${error.message}`)));
    return el;
  }

  /**
   * @param {string} runId
   * @param {any} metric
   */
  imageSection(runId, metric) {
    const body = h('div', { class: 'rh-image-box' }, 'Loading…');
    const el = section(`Images: ${metric.name}`, body);
    api.images(runId, metric.name).then((answer) => {
      const images = /** @type {any[]} */ (answer.images);
      if (images.length === 0) {
        replaceChildren(body, h('p', { class: 'rh-muted' }, 'No images.'));
        return;
      }
      const img = /** @type {HTMLImageElement} */ (h('img', { class: 'rh-image', alt: `${metric.name}` }));
      const caption = h('div', { class: 'rh-muted' });
      const show = (/** @type {number} */ i) => {
        const item = images[i];
        img.src = imageUrl(runId, metric.name, item.index);
        img.alt = `${metric.name} at step ${item.step}`;
        caption.textContent = `step ${item.step} · ${formatTimestamp(item.wall_time)}${item.width ? ` · ${item.width}×${item.height}` : ''} · ${i + 1} of ${images.length}`;
      };
      const slider = images.length > 1 && h('input', {
        type: 'range', min: '0', max: String(images.length - 1), step: '1', 'aria-label': 'Step',
        props: { value: String(images.length - 1) },
        on: { input: (e) => show(Number(/** @type {HTMLInputElement} */ (e.target).value)) },
      });
      show(images.length - 1);
      replaceChildren(body, img, caption, slider);
    }, (error) => replaceChildren(body, h('p', { class: 'rh-error-text' }, `Could not load the images: ${error.message}`)));
    return el;
  }

  /**
   * @param {string} runId
   * @param {any} metric
   */
  histogramSection(runId, metric) {
    const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'rh-histogram', width: '600', height: '220', role: 'img', 'aria-label': `Histograms of ${metric.name} over steps` }));
    const caption = h('div', { class: 'rh-muted' }, 'Loading…');
    const el = section(`Histograms: ${metric.name}`, canvas, caption);
    api.histograms(runId, metric.name).then((answer) => {
      const items = /** @type {any[]} */ (answer.histograms);
      const draw = () => drawRidges(canvas, items);
      requestAnimationFrame(draw);
      new ResizeObserver(draw).observe(canvas);
      const first = items[0];
      const last = items[items.length - 1];
      caption.textContent = items.length
        ? `${items.length} of ${answer.total} histograms, step ${first.step} (back) to ${last.step} (front)`
        : 'No histograms.';
    }, (error) => {
      caption.textContent = `Could not load the histograms: ${error.message}`;
    });
    return el;
  }
}

/**
 * @param {string} label
 * @param {import('./lib/dom.js').Child} value
 */
function fact(label, value) {
  if (value === '' || value === null || value === undefined) return null;
  return h('div', { class: 'rh-fact' }, h('dt', null, label), h('dd', null, value));
}

/** @param {Record<string, unknown>} values */
function keyValueTable(values) {
  return h('table', { class: 'rh-table rh-kv' }, h('tbody', null, Object.entries(values).map(([k, v]) => h('tr', null,
    h('th', { scope: 'row' }, k),
    h('td', { class: typeof v === 'number' ? 'rh-num' : undefined, title: typeof v === 'number' ? formatNumberLong(v) : null },
      typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v))))));
}

/**
 * Draw histograms as offset ridges (TensorBoard's "offset" mode) on a canvas.
 * @param {HTMLCanvasElement} canvas
 * @param {any[]} items
 */
function drawRidges(canvas, items) {
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 220;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const styles = getComputedStyle(document.documentElement);
  const accent = styles.getPropertyValue('--rh-accent').trim() || '#f57c00';
  const text = styles.getPropertyValue('--rh-text-secondary').trim() || '#616161';
  const bottom = 18;
  const layout = ridgeLayout(items, { width, height: height - bottom, padding: 10 });
  const n = layout.ridges.length;
  layout.ridges.forEach((ridge, i) => {
    const t = n > 1 ? i / (n - 1) : 1;
    ctx.beginPath();
    ridge.points.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.closePath();
    ctx.fillStyle = withAlpha(accent, 0.1 + 0.5 * t);
    ctx.fill();
    ctx.strokeStyle = withAlpha(accent, 0.4 + 0.6 * t);
    ctx.lineWidth = 1;
    ctx.stroke();
  });
  ctx.fillStyle = text;
  ctx.font = '11px Roboto, sans-serif';
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'left';
  ctx.fillText(formatNumber(layout.xMin), 10, height - 2);
  ctx.textAlign = 'right';
  ctx.fillText(formatNumber(layout.xMax), width - 10, height - 2);
}
