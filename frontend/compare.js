// @ts-check
/**
 * The Compare view: 2 to 20 selected runs side by side (fields, properties, tags, scalar
 * metric summaries), the values that differ highlighted, a switch to hide the rows that do not,
 * and a link from each column to the run's details.
 */

import { api } from './api.js';
import { MAX_COMPARED, MIN_COMPARED, compareRows } from './lib/compare-data.js';
import { h, middleName, replaceChildren } from './lib/dom.js';
import { durationMs, formatDuration, formatTimestamp, statusLabel } from './lib/format.js';

/** @typedef {import('./lib/compare-data.js').ComparedRun} ComparedRun */

/**
 * @typedef {Object} CompareCallbacks
 * @property {(id: string) => void} openDetails
 */

const MAX_METRICS = 40; // scalar metrics summarised (min/max need one /compare each)

export class CompareView {
  /** @param {CompareCallbacks} callbacks */
  constructor(callbacks) {
    this.callbacks = callbacks;
    /** @type {string[]} */
    this.ids = [];
    /** @type {Array<ComparedRun & {name: string}> | null} */
    this.runs = null;
    /** @type {string | null} */
    this.error = null;
    this.onlyDifferences = false;
    this.generation = 0;
    this.key = '';
    this.switch = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', on: { change: () => { this.onlyDifferences = this.switch.checked; this.render(); } } }));
    this.body = h('div', { class: 'rh-compare-body' });
    this.el = h('div', { class: 'rh-compare' },
      h('div', { class: 'rh-view-heading' }, h('h2', null, 'Compare'), h('span', { class: 'rh-spacer' }),
        h('label', { class: 'rh-control', title: 'Hide the rows where every run has the same value' }, this.switch, h('span', null, 'Only differences'))),
      this.body);
  }

  /** @param {string[]} ids the selected runs */
  update(ids) {
    const key = ids.join(',');
    if (key === this.key) return;
    this.key = key;
    this.ids = ids;
    this.runs = null;
    this.error = null;
    if (ids.length >= MIN_COMPARED && ids.length <= MAX_COMPARED) void this.load();
    this.render();
  }

  refresh() {
    if (this.ids.length >= MIN_COMPARED && this.ids.length <= MAX_COMPARED) void this.load();
  }

  async load() {
    const generation = ++this.generation;
    const ids = this.ids;
    try {
      const details = await Promise.all(ids.map((id) => api.run(id)));
      const scalars = [...new Set(details.flatMap((d) => d.metrics.filter((/** @type {any} */ m) => m.kind === 'scalar').map((/** @type {any} */ m) => m.name)))].slice(0, MAX_METRICS);
      // One bucket per run and metric: the min and max of every value logged.
      const ranges = await Promise.all(scalars.map((name) => api.compare(ids, name, { points: 1 })));
      if (generation !== this.generation) return;
      this.runs = details.map((d, i) => toCompared(d, scalars, ranges, i));
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.render();
  }

  render() {
    const n = this.ids.length;
    let message = null;
    if (n < MIN_COMPARED) message = [h('strong', null, 'Select two to twenty runs to compare them.'), ' Ctrl/⌘-click or tick the boxes in the runs table.'];
    else if (n > MAX_COMPARED) message = `${n} runs are selected; the compare view shows ${MIN_COMPARED} to ${MAX_COMPARED} side by side. Narrow the selection (the charts overlay them all).`;
    else if (this.error) message = `Could not load the runs: ${this.error}`;
    else if (!this.runs) message = [h('span', { class: 'rh-spinner', 'aria-hidden': 'true' }), 'Loading the runs…'];
    if (message !== null || !this.runs) {
      replaceChildren(this.body, h('div', { class: 'rh-empty' }, message));
      return;
    }
    const runs = this.runs;
    const rows = compareRows(runs, { onlyDifferences: this.onlyDifferences });
    let section = '';
    const body = [];
    for (const row of rows) {
      if (row.section !== section) {
        section = row.section;
        body.push(h('tr', { class: 'rh-compare-section' }, h('th', { colspan: String(runs.length + 1) }, section)));
      }
      body.push(h('tr', { class: ['rh-compare-row', row.differs && 'rh-compare-differs'], 'data-key': `${row.section}/${row.key}` },
        h('th', { scope: 'row' }, row.key),
        row.values.map((v) => h('td', { class: [row.differs && 'rh-diff'] }, v))));
    }
    replaceChildren(this.body, h('div', { class: 'rh-compare-scroll' }, h('table', { class: 'rh-compare-table' },
      h('thead', null, h('tr', null, h('th'), runs.map((run) => h('th', { scope: 'col' },
        middleName(run.name, 'rh-compare-name'),
        h('button', { class: 'rh-btn rh-btn-small rh-btn-flat', type: 'button', title: `Details of ${run.name}`, on: { click: () => this.callbacks.openDetails(run.id) } }, 'Details'))))),
      h('tbody', null, body))),
    rows.length === 0 && h('p', { class: 'rh-muted' }, 'These runs have the same values everywhere.'));
  }
}

/**
 * @param {any} detail a /run answer
 * @param {string[]} scalars
 * @param {any[]} ranges /compare answers, one per scalar, points=1
 * @param {number} i the run's index in the request
 * @returns {ComparedRun & {name: string}}
 */
function toCompared(detail, scalars, ranges, i) {
  const run = detail.run;
  const last = new Map(detail.metrics.map((/** @type {any} */ m) => [m.name, m]));
  /** @type {ComparedRun['metrics']} */
  const metrics = {};
  scalars.forEach((name, k) => {
    const m = last.get(name);
    if (!m) return;
    const b = ranges[k]?.series?.[i]?.buckets;
    metrics[name] = { last: m.last_value ?? null, count: m.count, min: b?.min?.[0] ?? null, max: b?.max?.[0] ?? null };
  });
  const duration = durationMs(run.start_time, run.end_time);
  return {
    id: String(run.id),
    name: String(run.display_name ?? run.id),
    fields: {
      Status: statusLabel(run.status),
      Started: formatTimestamp(run.start_time),
      Duration: duration === null ? '' : formatDuration(duration),
      Parent: detail.ancestors.length ? String(detail.ancestors[detail.ancestors.length - 1].display_name) : '',
    },
    properties: run.properties ?? {},
    tags: run.tags ?? {},
    metrics,
  };
}
