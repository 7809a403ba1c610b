// @ts-check
/**
 * The runs of one experiment as far as they are loaded: top-level runs page by page (newest
 * first), children lazily per parent, single runs on demand (a selection restored from the URL,
 * a search hit's ancestors). Views read `tree()` and the page bookkeeping; every change calls
 * `onChange`.
 */

import { RUNS_PAGE, api } from './api.js';
import { buildTree } from './lib/tree.js';
import { statusKind } from './lib/format.js';

/** @typedef {import('./lib/tree.js').RunRow & {properties?: Record<string, unknown>, error?: string | null, duration?: number | null}} Row */
/** @typedef {import('./lib/tree.js').TreeNode} TreeNode */

/**
 * Loading bookkeeping of one list (the top-level runs, or one parent's children).
 * @typedef {Object} Page
 * @property {number} loaded rows fetched from the start of the list
 * @property {number} total rows the server has
 * @property {boolean} loading
 * @property {string | null} error
 */

/** Top-level runs fetched first: a screenful and more, fast to answer; the rest follows. */
export const FIRST_PAGE = 200;
/** Most search hits merged into the tree per query. */
const SEARCH_LIMIT = 200;
/** Most ancestors looked up for one search (hits deep in unloaded branches). */
const SEARCH_ANCESTOR_LOOKUPS = 40;

/** @returns {Page} */
const newPage = () => ({ loaded: 0, total: 0, loading: false, error: null });

export class RunStore {
  /** @param {() => void} onChange */
  constructor(onChange) {
    this.onChange = onChange;
    /** @type {string | null} */
    this.experiment = null;
    /** @type {Map<string, Row>} */
    this.rows = new Map();
    /** @type {Page} */
    this.roots = newPage();
    /** @type {Map<string, Page>} */
    this.children = new Map();
    /** @type {Set<string>} */
    this.metricNames = new Set();
    /** @type {Map<string, string[]>} scalar metric names of runs loaded one by one (/run) */
    this.scalarsOf = new Map();
    /** @type {TreeNode[] | null} */
    this.cachedTree = null;
    this.generation = 0; // bumps on experiment change: late answers for the old one are dropped
    /** @type {{query: string, running: boolean, error: string | null}} */
    this.searchState = { query: '', running: false, error: null };
  }

  /** @param {string | null} experiment */
  reset(experiment) {
    this.experiment = experiment;
    this.rows = new Map();
    this.roots = newPage();
    this.children = new Map();
    this.metricNames = new Set();
    this.scalarsOf = new Map();
    this.cachedTree = null;
    this.generation++;
    this.searchState = { query: '', running: false, error: null };
  }

  changed() {
    this.cachedTree = null;
    this.onChange();
  }

  /**
   * Merge rows (a newer answer wins; a partial row never erases known metrics).
   * @param {Row[]} rows
   */
  merge(rows) {
    for (const row of rows) {
      const id = String(row.id);
      const old = this.rows.get(id);
      this.rows.set(id, old && row.metrics === undefined ? { ...row, metrics: old.metrics } : row);
      for (const name of Object.keys(row.metrics ?? {})) this.metricNames.add(name);
    }
  }

  /** @returns {TreeNode[]} */
  tree() {
    this.cachedTree ??= buildTree([...this.rows.values()]);
    return this.cachedTree;
  }

  /**
   * Fetch a page of a list into the store.
   * @param {Page} page
   * @param {Record<string, unknown>} params
   * @param {{offset: number, limit: number, quiet?: boolean}} range quiet: a live refresh, which
   *   shows no loading state (and leaves the one of a page load in progress alone)
   */
  async fetchPage(page, params, { offset, limit, quiet = false }) {
    const generation = this.generation;
    if (!quiet) {
      page.loading = true;
      page.error = null;
      this.onChange();
    }
    try {
      const answer = await api.runs({ ...params, offset, limit });
      if (generation !== this.generation) return;
      this.accept(page, answer, offset);
    } catch (error) {
      if (generation !== this.generation) return;
      if (!quiet) page.error = error instanceof Error ? error.message : String(error);
    } finally {
      if (generation === this.generation) {
        if (!quiet) page.loading = false;
        this.changed();
      }
    }
  }

  /**
   * Merge one /runs answer into a list.
   * @param {Page} page
   * @param {any} answer
   * @param {number} offset
   */
  accept(page, answer, offset) {
    this.merge(answer.runs);
    page.total = answer.total;
    page.loaded = Math.max(page.loaded, Math.min(answer.total, offset + answer.runs.length));
    for (const name of answer.metric_names ?? []) this.metricNames.add(name);
  }

  /**
   * The top-level runs, newest first: a first page (possibly fetched already, while the modules
   * loaded), then the rest of the first thousand in the background.
   * @param {any} [prefetched] the /runs answer for offset 0, if there is one
   */
  async loadRoots(prefetched = null) {
    const params = { experiment: this.experiment, order: 'desc' };
    if (prefetched) {
      this.accept(this.roots, prefetched, 0);
      this.changed();
    } else {
      await this.fetchPage(this.roots, params, { offset: 0, limit: FIRST_PAGE });
    }
    const loaded = this.roots.loaded;
    if (!this.roots.error && loaded < Math.min(this.roots.total, RUNS_PAGE)) {
      void this.fetchPage(this.roots, params, { offset: loaded, limit: RUNS_PAGE - loaded });
    }
  }

  /** The next page of top-level runs. */
  loadMoreRoots() {
    if (this.roots.loading) return Promise.resolve();
    return this.fetchPage(this.roots, { experiment: this.experiment, order: 'desc' }, { offset: this.roots.loaded, limit: RUNS_PAGE });
  }

  /**
   * A parent's children, first page (or the next one with `more`).
   * @param {string} parentId
   * @param {{more?: boolean}} [options]
   */
  loadChildren(parentId, { more = false } = {}) {
    let page = this.children.get(parentId);
    if (!page) {
      page = newPage();
      this.children.set(parentId, page);
    }
    if (page.loading) return Promise.resolve();
    return this.fetchPage(page, { parent: parentId }, { offset: more ? page.loaded : 0, limit: RUNS_PAGE });
  }

  /**
   * Whether every run of the experiment is loaded (a client-side filter then sees them all).
   */
  complete() {
    if (this.roots.loaded < this.roots.total) return false;
    for (const row of this.rows.values()) {
      const count = Number(row.child_count ?? 0);
      if (count > 0 && (this.children.get(String(row.id))?.loaded ?? 0) < count) return false;
    }
    return true;
  }

  /**
   * Search every run of the experiment on the server (any depth) and merge the hits, with their
   * ancestors, so a filter also finds runs in branches nobody expanded.
   * @param {string} query
   */
  async search(query) {
    const generation = this.generation;
    this.searchState = { query, running: true, error: null };
    this.onChange();
    try {
      const answer = await api.runs({ experiment: this.experiment ?? undefined, parent: '*', q: query, limit: SEARCH_LIMIT });
      if (generation !== this.generation) return;
      this.merge(answer.runs);
      // Parents not loaded yet: each /run answer names a run's whole ancestry.
      const missing = new Set();
      for (const row of answer.runs) {
        if (row.parent_id !== null && row.parent_id !== undefined && !this.rows.has(String(row.parent_id))) missing.add(String(row.parent_id));
      }
      let lookups = 0;
      for (const id of missing) {
        if (lookups++ >= SEARCH_ANCESTOR_LOOKUPS || this.rows.has(id)) continue;
        const detail = await api.run(id);
        if (generation !== this.generation) return;
        this.merge([detail.run]);
        // Ancestors come as {id, display_name, status}: enough to place the hit in the tree
        // until the real rows load.
        let parent = null;
        for (const a of detail.ancestors) {
          if (!this.rows.has(String(a.id))) this.merge([{ ...a, parent_id: parent, child_count: 1, partial: true }]);
          parent = a.id;
        }
      }
      this.searchState = { query, running: false, error: null };
    } catch (error) {
      if (generation !== this.generation) return;
      this.searchState = { query, running: false, error: error instanceof Error ? error.message : String(error) };
    }
    this.changed();
  }

  /**
   * Load runs by id that are not loaded (a selection or focus from the URL); remembers their
   * scalar metric names. Unknown ids are returned so the caller can drop them.
   * @param {string[]} ids
   * @returns {Promise<string[]>} ids that do not exist
   */
  async ensureRuns(ids) {
    const generation = this.generation;
    /** @type {string[]} */
    const unknown = [];
    await Promise.all(ids.filter((id) => !this.rows.has(id)).map(async (id) => {
      try {
        const detail = await api.run(id);
        if (generation !== this.generation) return;
        this.merge([detail.run]);
        this.scalarsOf.set(id, detail.metrics.filter((/** @type {any} */ m) => m.kind === 'scalar').map((/** @type {any} */ m) => m.name));
      } catch (error) {
        if (/** @type {any} */ (error)?.status === 404) unknown.push(id);
      }
    }));
    if (generation === this.generation) this.changed();
    return unknown;
  }

  /**
   * Scalar metric names of a run, or null while unknown.
   * @param {string} id
   * @returns {string[] | null}
   */
  scalarNames(id) {
    const row = this.rows.get(id);
    if (row?.metrics) return Object.keys(row.metrics);
    return this.scalarsOf.get(id) ?? null;
  }

  /**
   * The runs the charts overlay: the selection, where a selected parent that logs no scalars of
   * its own stands for its children (loaded on demand), so a parent is never a dead end.
   * @param {ReadonlyArray<string>} selected
   * @param {number} limit most runs charted
   * @returns {{ids: string[], parents: Array<{id: string, name: string, children: number}>, shownFor: Map<string, string>}}
   */
  charted(selected, limit) {
    /** @type {string[]} */
    const ids = [];
    const parents = [];
    /** @type {Map<string, string>} child id -> the selected parent it is shown for */
    const shownFor = new Map();
    for (const id of selected) {
      const row = this.rows.get(id);
      const own = this.scalarNames(id);
      if (!row || Number(row.child_count ?? 0) === 0 || own === null || own.length > 0) {
        ids.push(id);
        continue;
      }
      const page = this.children.get(id);
      if (!page) void this.loadChildren(id);
      const children = [...this.rows.values()].filter((r) => String(r.parent_id) === id).sort((a, b) => Number(a.start_time ?? 0) - Number(b.start_time ?? 0));
      parents.push({ id, name: String(row.display_name ?? id), children: Number(row.child_count) });
      for (const child of children.slice(0, limit)) {
        ids.push(String(child.id));
        shownFor.set(String(child.id), id);
      }
    }
    return { ids: [...new Set(ids)].slice(0, limit), parents, shownFor };
  }

  /** Whether a loaded run is running (polling is on while one is). */
  hasLive() {
    for (const row of this.rows.values()) if (statusKind(row.status) === 'running') return true;
    return false;
  }

  /**
   * Fetch again what is loaded: the top-level pages and the children of `expanded` parents.
   * @param {Iterable<string>} expanded
   */
  async refresh(expanded) {
    const jobs = [];
    const roots = Math.max(RUNS_PAGE, this.roots.loaded);
    for (let offset = 0; offset < roots; offset += RUNS_PAGE) {
      jobs.push(this.fetchPage(this.roots, { experiment: this.experiment, order: 'desc' }, { offset, limit: RUNS_PAGE, quiet: true }));
    }
    for (const id of expanded) {
      const page = this.children.get(id);
      if (page && page.loaded > 0 && !page.loading) {
        for (let offset = 0; offset < page.loaded; offset += RUNS_PAGE) {
          jobs.push(this.fetchPage(page, { parent: id }, { offset, limit: RUNS_PAGE, quiet: true }));
        }
      }
    }
    await Promise.all(jobs);
  }

  /**
   * The path of display names from the top-level run down to `id` (for TensorBoard run names).
   * @param {string} id
   * @returns {string[]}
   */
  pathOf(id) {
    /** @type {string[]} */
    const path = [];
    const seen = new Set();
    let row = this.rows.get(id);
    while (row && !seen.has(String(row.id))) {
      seen.add(String(row.id));
      path.unshift(String(row.display_name ?? row.id));
      row = row.parent_id === null || row.parent_id === undefined ? undefined : this.rows.get(String(row.parent_id));
    }
    return path;
  }
}
