import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createH, h, isSafeUrl, replaceChildren } from '../lib/dom.js';

/**
 * A minimal fake DOM: enough of Document, Element and Text for dom.js, and loud about anything
 * that would parse markup (innerHTML, outerHTML, insertAdjacentHTML throw).
 */
class FakeNode {
  constructor(ownerDocument, nodeType) {
    this.ownerDocument = ownerDocument;
    this.nodeType = nodeType;
    this.childNodes = [];
  }

  get firstChild() {
    return this.childNodes[0] ?? null;
  }

  appendChild(child) {
    assert.ok(child instanceof FakeNode, 'only nodes can be appended');
    this.childNodes.push(child);
    return child;
  }

  removeChild(child) {
    this.childNodes.splice(this.childNodes.indexOf(child), 1);
    return child;
  }

  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
}

class FakeText extends FakeNode {
  constructor(doc, data) {
    super(doc, 3);
    this.data = data;
  }

  get textContent() {
    return this.data;
  }
}

class FakeElement extends FakeNode {
  constructor(doc, tagName) {
    super(doc, 1);
    this.tagName = tagName.toUpperCase();
    this.attributes = new Map();
    this.listeners = [];
    const styles = new Map();
    this.style = { setProperty: (name, value) => styles.set(name, value), get: (name) => styles.get(name) };
  }

  setAttribute(name, value) {
    assert.equal(typeof value, 'string', 'attribute values are strings');
    this.attributes.set(name, value);
  }

  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }

  addEventListener(type, listener) {
    this.listeners.push({ type, listener });
  }

  dispatch(type, event = {}) {
    for (const l of this.listeners) if (l.type === type) l.listener(event);
  }

  set innerHTML(_) {
    throw new Error('innerHTML must never be used');
  }

  set outerHTML(_) {
    throw new Error('outerHTML must never be used');
  }

  insertAdjacentHTML() {
    throw new Error('insertAdjacentHTML must never be used');
  }
}

class FakeDocument {
  constructor() {
    this.created = [];
  }

  createElement(tag) {
    this.created.push(tag);
    return new FakeElement(this, tag);
  }

  createTextNode(data) {
    return new FakeText(this, data);
  }
}

const XSS = '<img src=x onerror=alert(1)>';

test('a hostile run name stays text: one text node, no extra element, no markup parsing', () => {
  const doc = new FakeDocument();
  const hh = createH(doc);
  const cell = hh('td', { class: 'name', title: XSS }, XSS);
  assert.deepEqual(doc.created, ['td'], 'no <img> element was created');
  assert.equal(cell.childNodes.length, 1);
  assert.equal(cell.childNodes[0].nodeType, 3);
  assert.equal(cell.childNodes[0].data, XSS);
  assert.equal(cell.textContent, XSS);
  assert.equal(cell.getAttribute('title'), XSS, 'attribute values are literal too');
});

test('children: strings, numbers, nested arrays, nodes; null, undefined and booleans skipped', () => {
  const doc = new FakeDocument();
  const hh = createH(doc);
  const inner = hh('b', null, 'bold');
  const el = hh('p', null, 'a', 1, NaN, [null, ['b', false, [true, undefined, inner]]], 0);
  assert.deepEqual(el.childNodes.map((c) => (c.nodeType === 3 ? c.data : c.tagName)), ['a', '1', 'NaN', 'b', 'B', '0']);
  assert.throws(() => hh('p', null, { toString: () => XSS }), /cannot render a child of type \[object Object\]/);
  assert.throws(() => hh('p', null, () => 'x'), /cannot render a child/);
});

test('attributes go through setAttribute; booleans, class lists and styles', () => {
  const doc = new FakeDocument();
  const hh = createH(doc);
  const el = hh('input', {
    type: 'checkbox',
    disabled: true,
    hidden: false,
    'aria-label': 'select run',
    'data-run-id': 42,
    class: ['row', false, null, 'selected', ''],
    style: { width: '10px', 'padding-left': 8, color: null },
    props: { checked: true, value: 'r1' },
  });
  assert.equal(el.getAttribute('type'), 'checkbox');
  assert.equal(el.getAttribute('disabled'), '');
  assert.equal(el.getAttribute('hidden'), null);
  assert.equal(el.getAttribute('aria-label'), 'select run');
  assert.equal(el.getAttribute('data-run-id'), '42');
  assert.equal(el.getAttribute('class'), 'row selected');
  assert.equal(el.style.get('width'), '10px');
  assert.equal(el.style.get('padding-left'), '8');
  assert.equal(el.style.get('color'), undefined);
  assert.equal(el.checked, true);
  assert.equal(el.value, 'r1');
  const styled = hh('div', { style: 'margin-left: 12px', className: 'x' });
  assert.equal(styled.getAttribute('style'), 'margin-left: 12px');
  assert.equal(styled.getAttribute('class'), 'x');
});

test('on* attributes are refused; listeners only through `on`', () => {
  const hh = createH(new FakeDocument());
  for (const name of ['onclick', 'onerror', 'ONLOAD', 'onMouseOver']) {
    assert.throws(() => hh('div', { [name]: 'alert(1)' }), /refusing attribute/, name);
  }
  let clicks = 0;
  const button = hh('button', { on: { click: () => clicks++ } }, 'Go');
  button.dispatch('click');
  assert.equal(clicks, 1);
  assert.throws(() => hh('button', { on: { click: 'alert(1)' } }), /listener for "click" is not a function/);
});

test('script-capable URLs are refused in URL attributes, safe ones pass', () => {
  const hh = createH(new FakeDocument());
  const bad = [
    'javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', '\u0000javascript:alert(1)',
    'java\tscript:alert(1)', 'java\nscript:alert(1)', 'vbscript:msgbox(1)', 'data:text/html,<script>alert(1)</script>',
    'data:image/svg+xml,<svg onload=alert(1)>', 'file:///etc/passwd',
  ];
  for (const url of bad) {
    assert.equal(isSafeUrl(url), false, JSON.stringify(url));
    assert.throws(() => hh('a', { href: url }), /refusing unsafe URL in href/, JSON.stringify(url));
  }
  assert.throws(() => hh('img', { src: 'javascript:alert(1)' }), /unsafe URL in src/);
  assert.throws(() => hh('form', { action: 'javascript:alert(1)' }), /unsafe URL in action/);
  assert.throws(() => hh('a', { 'xlink:href': 'javascript:alert(1)' }), /unsafe URL/);
  const good = [
    './runs/1', '/data/plugin/runhistory/runs', '#top', '?q=javascript:1', 'runs/a:b', '',
    'https://example.com/x', 'http://localhost:6006/', 'mailto:me@example.com', 'blob:https://x/uuid',
    'data:image/png;base64,iVBORw0KGgo=',
  ];
  for (const url of good) {
    assert.equal(isSafeUrl(url), true, JSON.stringify(url));
    assert.equal(hh('a', { href: url }).getAttribute('href'), url);
  }
  assert.equal(isSafeUrl(null), false);
  assert.equal(isSafeUrl(42), false);
});

test('elements that run code and markup-bearing attributes are refused', () => {
  const hh = createH(new FakeDocument());
  for (const tag of ['script', 'SCRIPT', 'iframe', 'object', 'embed', 'base', 'meta']) {
    assert.throws(() => hh(tag), /refusing to create/, tag);
  }
  for (const tag of ['<img>', 'img src=x', '', 'a"b']) {
    assert.throws(() => hh(tag), /invalid tag/, tag);
  }
  assert.throws(() => hh('div', { srcdoc: '<p>' }), /refusing attribute "srcdoc"/);
  assert.throws(() => hh('div', { 'x y': '1' }), /invalid attribute name/);
  assert.throws(() => hh('div', { props: { innerHTML: XSS } }), /refusing property "innerHTML"/);
  assert.throws(() => hh('div', { props: { outerHTML: XSS } }), /refusing property "outerHTML"/);
});

test('replaceChildren swaps content with the same text-only rules', () => {
  const doc = new FakeDocument();
  const hh = createH(doc);
  const el = hh('ul', null, hh('li', null, 'old'), 'text');
  assert.equal(replaceChildren(el, XSS, [hh('li', null, 'new')]), el);
  assert.equal(el.childNodes.length, 2);
  assert.equal(el.childNodes[0].data, XSS);
  assert.equal(el.textContent, `${XSS}new`);
  replaceChildren(el);
  assert.equal(el.childNodes.length, 0);
});

test('h looks the global document up per call, not at import time', () => {
  assert.equal(globalThis.document, undefined, 'this test runs without a DOM');
  assert.throws(() => h('div'), /no document/);
  const doc = new FakeDocument();
  globalThis.document = doc;
  try {
    const el = h('span', null, XSS);
    assert.equal(el.textContent, XSS);
    assert.deepEqual(doc.created, ['span']);
  } finally {
    delete globalThis.document;
  }
});

test('createH accepts a document getter (an iframe document chosen later)', () => {
  let current = new FakeDocument();
  const hh = createH(() => current);
  hh('div');
  const first = current;
  current = new FakeDocument();
  hh('p');
  assert.deepEqual(first.created, ['div']);
  assert.deepEqual(current.created, ['p']);
});

test('afterNextPaint runs after the frame callback, via a message', async () => {
  const { afterNextPaint } = await import('../lib/dom.js');
  const order = [];
  const frames = [];
  globalThis.requestAnimationFrame = (fn) => frames.push(fn);
  try {
    const done = new Promise((resolve) => afterNextPaint((t) => {
      order.push('painted');
      resolve(t);
    }));
    assert.equal(frames.length, 1);
    frames[0]();
    order.push('frame');
    assert.equal(typeof (await done), 'number');
    assert.deepEqual(order, ['frame', 'painted']);
  } finally {
    delete globalThis.requestAnimationFrame;
  }
});
