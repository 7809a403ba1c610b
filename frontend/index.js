// @ts-check
/**
 * Entry point of the Run History tab. TensorBoard loads this module into the plugin iframe and
 * calls `render()` (tensorboard/backend/application.py `_serve_plugin_entry`); every other file
 * is imported relative to it, so the tab works under any `--path_prefix`.
 *
 * This module has no static imports on purpose: its body runs as soon as it arrives, so the
 * first data requests and every other module's download start at once, in parallel, instead of
 * after the import graph has been walked level by level.
 */

/**
 * The modules of the runs table, fetched at once; the rest (plots, sweep, details) are fetched
 * once the table is shown. test/vendor.test.js checks both lists against the files and the
 * imports.
 */
export const FIRST_MODULES = Object.freeze([
  'app.js', 'api.js', 'experiments.js', 'run-store.js', 'run-tree.js', 'tb-bridge.js',
  'lib/app-state.js', 'lib/colors.js', 'lib/dom.js', 'lib/format.js', 'lib/hash-state.js', 'lib/rpc.js', 'lib/tree.js',
  'lib/virtual.js',
]);
export const LATER_MODULES = Object.freeze([
  'charts.js', 'chart.js', 'chart-marks.js', 'compare.js', 'details.js', 'std-charts.js', 'sweep.js', 'lib/buckets.js', 'lib/chart-data.js', 'lib/compare-data.js', 'lib/csv.js',
  'lib/extremes.js', 'lib/histogram-layout.js', 'lib/scalars-link.js', 'lib/smoothing.js', 'lib/std-charts.js', 'lib/sweep-data.js', 'vendor/uPlot.esm.js',
]);
/** Top-level runs in the first request (matches run-store.js FIRST_PAGE). */
const FIRST_PAGE = 200;

/**
 * A <link> in the head (static, relative URLs only).
 * @param {string} rel
 * @param {string} href
 * @returns {HTMLLinkElement}
 */
function addLink(rel, href) {
  const link = document.createElement('link');
  link.setAttribute('rel', rel);
  link.setAttribute('href', href);
  document.head.appendChild(link);
  return link;
}

/**
 * Add a stylesheet served by the plugin (CSP: styles from 'self' only).
 * @param {string} href relative URL
 * @returns {Promise<void>} settles when it loaded (or failed: the tab still works unstyled)
 */
function addStylesheet(href) {
  return new Promise((resolve) => {
    const link = addLink('stylesheet', href);
    link.addEventListener('load', () => resolve());
    link.addEventListener('error', () => resolve());
  });
}

/**
 * The experiment id saved in TensorBoard's URL hash or in localStorage, if any.
 * @returns {string | null}
 */
function savedExperiment() {
  const sources = [];
  try {
    sources.push(window.top?.location.hash ?? '');
  } catch {
    // a cross-origin parent: nothing to read
  }
  try {
    sources.push(localStorage.getItem('runhistory.state') ?? '');
  } catch {
    // storage disabled
  }
  for (const text of sources) {
    const match = /(?:^|[#&])p\.runhistory\.exp=([^&]*)/.exec(text);
    if (match) {
      try {
        return decodeURIComponent(match[1]);
      } catch {
        // malformed: ignore
      }
    }
  }
  return null;
}

/**
 * @param {string} url
 * @returns {Promise<any>} the JSON body, or null on any failure (the app then asks again and
 *   reports the error properly)
 */
async function getJSON(url) {
  try {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/**
 * Start the first two requests the tab needs: the experiments, then the newest top-level runs of
 * the experiment it will show.
 * @returns {import('./app.js').Boot}
 */
function prefetch() {
  /** @param {string} id */
  const firstPage = (id) => getJSON(`./runs?${new URLSearchParams({ experiment: id, order: 'desc', limit: String(FIRST_PAGE), offset: '0' })}`);
  const saved = savedExperiment();
  const experiments = getJSON('./experiments');
  // The experiment shown last time is most likely shown again: ask for its runs at once.
  const guess = saved ? firstPage(saved) : null;
  const runs = experiments.then(async (answer) => {
    const list = answer?.experiments;
    if (!Array.isArray(list) || list.length === 0) return null;
    const chosen = list.find((e) => e.id === saved) ?? [...list].sort((a, b) => b.last_activity - a.last_activity)[0];
    const body = await (chosen.id === saved && guess ? guess : firstPage(chosen.id));
    return body ? { experiment: chosen.id, answer: body } : null;
  });
  return { experiments, runs };
}

/**
 * Follow TensorBoard's theme when embedded (its own dark-mode setting, which defaults to the
 * system's), else the system's `prefers-color-scheme` (styles.css handles that case).
 * @param {import('./tb-bridge.js').Bridge} bridge
 * @param {() => void} onChange
 */
function followTheme(bridge, onChange) {
  if (!bridge.embedded) return;
  const apply = (/** @type {boolean} */ dark) => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  };
  apply(bridge.darkMode());
  bridge.onDarkModeChange((dark) => {
    apply(dark);
    onChange();
  });
}

/** Build the tab. Called once by TensorBoard's plugin host page. */
export async function render() {
  performance.mark('runhistory:render');
  const boot = prefetch();
  for (const module of FIRST_MODULES) addLink('modulepreload', `./${module}`);
  const styles = Promise.all([addStylesheet('./vendor/uPlot.min.css'), addStylesheet('./styles.css')]);
  document.documentElement.lang = 'en';
  document.title = 'Run History';
  const [{ App }, { connectBridge }] = await Promise.all([import('./app.js'), import('./tb-bridge.js')]);
  performance.mark('runhistory:modules');
  const bridge = connectBridge();
  const root = document.createElement('div');
  root.className = 'rh-root';
  root.id = 'runhistory';
  document.body.appendChild(root);
  await styles;
  performance.mark('runhistory:styles');
  const app = new App(root, bridge, boot);
  followTheme(bridge, () => app.redraw());
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', () => app.redraw());
  /** @type {any} */ (window).runhistoryApp = app; // for debugging and the browser tests
  await app.start();
  for (const module of LATER_MODULES) addLink('modulepreload', `./${module}`);
}
