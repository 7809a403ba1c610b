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
  assert.deepEqual(files.sort(), ['buckets.js', 'dom.js', 'format.js', 'hash-state.js', 'smoothing.js', 'tree.js']);
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
