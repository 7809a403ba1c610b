// @ts-check
/**
 * The plugin's HTTP routes, from the iframe: relative URLs only (the document's base is
 * `/data/plugin/runhistory/`, so this works under `--path_prefix` too), JSON in, typed errors out.
 * Route reference: tb_runhistory_plugin/plugin/http_api.md.
 */

/** A failed request: `status` 0 for a network failure; `hint` is the server's advice, if any. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, url?: string, hint?: string | null}} [info]
   */
  constructor(message, { status = 0, url = '', hint = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.url = url;
    this.hint = hint;
  }
}

/**
 * A relative URL for a route with query parameters (null, undefined and '' are left out; arrays
 * repeat the parameter).
 * @param {string} route e.g. "runs"
 * @param {Record<string, unknown>} [params]
 * @returns {string}
 */
export function routeUrl(route, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) for (const item of value) query.append(key, String(item));
    else query.append(key, String(value));
  }
  const text = query.toString();
  return `./${route}${text ? `?${text}` : ''}`;
}

/**
 * GET a JSON route.
 * @param {string} route
 * @param {Record<string, unknown>} [params]
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<any>}
 */
export async function getJSON(route, params = {}, { signal } = {}) {
  const url = routeUrl(route, params);
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(`Cannot reach TensorBoard (${url}): is it still running?`, { url });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: reported below
  }
  if (!response.ok) {
    const message = body && typeof body.error === 'string' ? body.error : `HTTP ${response.status} ${response.statusText}`;
    throw new ApiError(message, { status: response.status, url, hint: body && typeof body.hint === 'string' ? body.hint : null });
  }
  if (body === null) throw new ApiError(`${url} did not answer with JSON`, { status: response.status, url });
  return body;
}

/** Runs per page of /runs (the route's maximum). */
export const RUNS_PAGE = 1000;
/** Runs per /compare request (the server's limit, http_api.md). */
export const COMPARE_BATCH = 100;

export const api = {
  /** @param {{signal?: AbortSignal}} [o] */
  experiments: (o) => getJSON('experiments', {}, o),
  /**
   * @param {{experiment?: string, parent?: string, q?: string, status?: string[], tag?: string[], limit?: number, offset?: number, order?: 'asc' | 'desc'}} params
   * @param {{signal?: AbortSignal}} [o]
   */
  runs: (params, o) => getJSON('runs', { limit: RUNS_PAGE, ...params, status: params.status?.join(',') }, o),
  /** @param {string} id @param {{signal?: AbortSignal}} [o] */
  run: (id, o) => getJSON('run', { id }, o),
  /**
   * @param {string[]} runs
   * @param {string} name
   * @param {{x?: string, points?: number, xmin?: number | null, xmax?: number | null}} params
   * @param {{signal?: AbortSignal}} [o]
   */
  compare: async (runs, name, params, o) => {
    // The server answers at most COMPARE_BATCH runs per request: larger overlays are fetched in
    // parallel batches and joined, in order.
    const batches = [];
    for (let i = 0; i < runs.length; i += COMPARE_BATCH) batches.push(runs.slice(i, i + COMPARE_BATCH));
    const answers = await Promise.all(batches.map((batch) => getJSON('compare', { runs: batch.join(','), name, ...params }, o)));
    return answers.length === 1 ? answers[0] : { ...answers[0], series: answers.flatMap((a) => a.series) };
  },
  /** @param {string} experiment @param {string | null} since @param {{signal?: AbortSignal}} [o] */
  changes: (experiment, since, o) => getJSON('changes', since === null ? { experiment } : { experiment, since }, o),
  /** @param {string} parent @param {{signal?: AbortSignal}} [o] */
  sweep: (parent, o) => getJSON('sweep', { parent }, o),
  /** @param {string} run @param {string} name @param {{signal?: AbortSignal}} [o] */
  table: (run, name, o) => getJSON('table', { run, name, limit: 1000 }, o),
  /** @param {string} run @param {string} name @param {{signal?: AbortSignal}} [o] */
  images: (run, name, o) => getJSON('images', { run, name }, o),
  /** @param {string} run @param {string} name @param {{signal?: AbortSignal}} [o] */
  histograms: (run, name, o) => getJSON('histograms', { run, name, points: 50 }, o),
  /** @param {string} run @param {string} name @param {number} index @param {{signal?: AbortSignal}} [o] */
  chart: (run, name, index, o) => getJSON('chart', { run, name, index }, o),
};

/**
 * The URL of one image's bytes.
 * @param {string} run
 * @param {string} name
 * @param {number} index
 */
export const imageUrl = (run, name, index) => routeUrl('image', { run, name, index });

/**
 * The URL of a download: one metric, or the whole run without `name`.
 * @param {string} run
 * @param {string | null} name
 * @param {'csv' | 'json'} format
 */
export const downloadUrl = (run, name, format) => routeUrl('download', { run, name, format });

/**
 * URL of one stored run file (served as an attachment).
 * @param {string} run
 * @param {string} name
 */
export const fileUrl = (run, name) => routeUrl('file', { run, name });
