// Checks on the shape of the frontend itself: vendored files match VENDORED.md, every module is
// type-checked, browser-loadable from relative URLs, and free of markup-injection sinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';

const root = new URL('../', import.meta.url);
const read = (path) => readFile(new URL(path, root), 'utf8');

test('vendored uPlot matches the version and hashes recorded in VENDORED.md', async () => {
  const doc = await read('VENDORED.md');
  const version = /\| `vendor\/uPlot\.esm\.js` \|[^|]+\| (\d+\.\d+\.\d+) \|/.exec(doc)?.[1];
  assert.ok(version, 'VENDORED.md names the uPlot version');
  assert.match(version, /^1\.6\./);
  const source = await read('vendor/uPlot.esm.js');
  assert.match(source, new RegExp(`https://github\\.com/leeoniya/uPlot \\(v${version.replace(/\./g, '\\.')}\\)`));
  for (const file of ['vendor/uPlot.esm.js', 'vendor/uPlot.min.css']) {
    const digest = createHash('sha256').update(await readFile(new URL(file, root))).digest('hex');
    assert.ok(doc.includes(`${digest}  ${file}`), `VENDORED.md records the sha256 of ${file}`);
  }
  assert.match(await read('vendor/uPlot.LICENSE'), /The MIT License/);
  assert.match(await read('vendor/uPlot.min.css'), /\.uplot/);
});

test('vendored uPlot is CSP-safe and imports without a DOM', async () => {
  const source = await read('vendor/uPlot.esm.js');
  assert.doesNotMatch(source, /\beval\s*\(|new Function\s*\(|\.innerHTML\s*=/);
  assert.doesNotMatch(source, /^import\s/m, 'no imports to resolve');
  const { default: uPlot } = await import('../vendor/uPlot.esm.js');
  assert.equal(typeof uPlot, 'function');
  assert.equal(typeof uPlot.paths, 'object');
});

test('every lib module is @ts-check, imports only relative .js files, and has no markup sinks', async () => {
  const files = (await readdir(new URL('lib/', root))).filter((f) => f.endsWith('.js'));
  assert.deepEqual(files.sort(), [
    'app-state.js', 'buckets.js', 'chart-data.js', 'colors.js', 'compare-data.js', 'csv.js', 'dom.js', 'extremes.js', 'format.js', 'hash-state.js',
    'histogram-layout.js', 'rpc.js', 'scalars-link.js', 'smoothing.js', 'std-charts.js', 'sweep-data.js', 'tree.js', 'virtual.js',
  ]);
  for (const file of files) {
    const source = await read(`lib/${file}`);
    assert.ok(source.startsWith('// @ts-check\n'), `${file} starts with // @ts-check`);
    for (const match of source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.match(match[1], /^\.\/[\w-]+\.js$/, `${file} imports ${match[1]}: the browser needs relative .js URLs`);
    }
    assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML\s*\(|document\.write|\beval\s*\(|new Function\s*\(/, file);
    await import(`../lib/${file}`); // no DOM needed at import time
  }
});

test('every view module is @ts-check, imports only relative .js files, and has no markup sinks', async () => {
  const files = (await readdir(root)).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes('index.js'), 'index.js is the entry point TensorBoard loads');
  const index = await read('index.js');
  assert.match(index, /export async function render\(/, 'index.js exports render()');
  for (const file of files) {
    const source = await read(file);
    assert.ok(source.startsWith('// @ts-check\n'), `${file} starts with // @ts-check`);
    for (const match of source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.match(match[1], /^\.\/[\w/.-]+\.js$/, `${file} imports ${match[1]}: the browser needs relative .js URLs`);
      assert.doesNotMatch(match[1], /\.\./, `${file} imports ${match[1]}: stay inside the frontend folder`);
    }
    assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML\s*\(|document\.write|\beval\s*\(|new Function\s*\(|https?:\/\//, file);
  }
});

test('the stylesheet loads nothing from outside the plugin and TensorBoard', async () => {
  const css = await read('styles.css');
  for (const match of css.matchAll(/url\(\s*['"]?([^'")]+)/g)) {
    assert.match(match[1], /^\.\.\/\.\.\/\.\.\/font-roboto\/[\w-]+\.woff2$/, `styles.css loads ${match[1]}`);
  }
  assert.doesNotMatch(css, /@import/);
});

test('index.js preloads exactly the modules of the tab, the runs table first', async () => {
  const { FIRST_MODULES, LATER_MODULES } = await import('../index.js');
  const top = (await readdir(root)).filter((f) => f.endsWith('.js') && f !== 'index.js');
  const lib = (await readdir(new URL('lib/', root))).filter((f) => f.endsWith('.js')).map((f) => `lib/${f}`);
  assert.deepEqual([...FIRST_MODULES, ...LATER_MODULES].sort(), [...top, ...lib, 'vendor/uPlot.esm.js'].sort());
  assert.doesNotMatch(await read('index.js'), /^import\s/m, 'index.js has no static imports: its body must start at once');
  // The static import graph from app.js stays within FIRST_MODULES (later ones are dynamic imports).
  const first = new Set(FIRST_MODULES);
  const seen = new Set();
  const visit = async (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    assert.ok(first.has(file), `${file} is statically imported by the runs table, so it belongs in FIRST_MODULES`);
    const source = await read(file);
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
    for (const match of source.matchAll(/^\s*import\s[^'"]*['"]\.\/([^'"]+)['"]/gm)) {
      await visit(new URL(match[1], new URL(dir, 'file:///x/')).pathname.slice(3));
    }
  };
  await visit('app.js');
  await visit('tb-bridge.js');
});
