// @ts-check
/**
 * A tiny element helper that cannot inject markup.
 *
 *   h('a', {class: 'run', href: './runs/7', on: {click: open}}, run.display_name)
 *
 * Text children become text nodes, attributes go through `setAttribute`, listeners through
 * the explicit `on` option; there is no path to `innerHTML`. Attribute names starting with
 * "on", script-capable URL schemes in URL attributes, and elements that load or run code
 * (script, iframe, object, ...) are refused with a TypeError: those are programming errors,
 * and failing loudly beats a silently missing link. For URLs that come from user data (a tag
 * value, say) check `isSafeUrl` first and render text when it says no.
 *
 * The document is looked up when `h` is called, never at import time, so this module imports
 * under Node; `createH(doc)` binds another document (an iframe's, or a test fake). HTML
 * elements only (`createElement`): the charts are uPlot canvases, so there is no SVG support.
 */

import { splitForEllipsis } from './format.js';

/**
 * The subset of `Document` used here (so a small fake can stand in for tests).
 * @typedef {Pick<Document, 'createElement' | 'createTextNode'>} DocumentLike
 */

/**
 * A child: strings and numbers become text; null, undefined and booleans are skipped (so
 * `cond && h(...)` works); arrays are flattened.
 * @typedef {Node | string | number | boolean | null | undefined | ChildList} Child
 */
/** @typedef {readonly Child[]} ChildList */

/**
 * Attributes. Plain keys are set with `setAttribute` (true sets an empty boolean attribute;
 * false, null and undefined skip it). Special keys: `on` (event listeners), `style` (a string,
 * or an object of CSS properties), `class` (a string or an array of class names, falsy
 * entries dropped), `props` (a few element properties that attributes cannot set after first
 * render: value, checked, selected, disabled, indeterminate).
 * @typedef {Object} Attrs
 * @property {{[K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void}} [on] listeners by event type
 * @property {string | Record<string, string | number | null | undefined>} [style]
 * @property {string | ReadonlyArray<string | false | null | undefined>} [class]
 * @property {Partial<Record<'value' | 'checked' | 'selected' | 'disabled' | 'indeterminate', string | boolean>>} [props]
 */

/** Elements `h` refuses to create: they load or run code, or change how URLs resolve. */
const FORBIDDEN_TAGS = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'base', 'meta']);
/** Attributes whose value is a URL the browser may navigate to or fetch. */
const URL_ATTRIBUTES = new Set([
  'href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'background', 'ping', 'data',
]);
/** Attributes that are markup or code in disguise. */
const FORBIDDEN_ATTRIBUTES = new Set(['srcdoc']);
/** Properties `props` may set; never innerHTML and friends. */
const ALLOWED_PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate']);
/** Schemes allowed in URL attributes; relative URLs are always allowed. */
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'blob']);

const TAG_NAME = /^[a-zA-Z][a-zA-Z0-9-]*$/;
const ATTRIBUTE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/;

/**
 * Whether a URL is safe to put in an href/src: relative, or http(s), mailto, blob, or a
 * `data:image/...` (not SVG, which can hold script). Normalises the way browsers do before
 * reading the scheme (leading control characters and spaces dropped, tabs and newlines removed
 * anywhere), so "java\tscript:" and " JAVASCRIPT:" are caught.
 * @param {unknown} url
 * @returns {boolean}
 */
export function isSafeUrl(url) {
  if (typeof url !== 'string') return false;
  const normalized = url.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '').toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(normalized);
  if (scheme === null) return true; // relative: resolves under our own origin
  if (SAFE_SCHEMES.has(scheme[1])) return true;
  return scheme[1] === 'data' && /^data:image\/(png|gif|jpeg|webp|avif)[;,]/.test(normalized);
}

/**
 * @param {DocumentLike} doc
 * @param {Element} el
 * @param {Child} child
 */
function appendChild(doc, el, child) {
  if (child === null || child === undefined || typeof child === 'boolean') return;
  if (typeof child === 'string' || typeof child === 'number') {
    el.appendChild(doc.createTextNode(String(child)));
  } else if (Array.isArray(child)) {
    for (const c of child) appendChild(doc, el, c);
  } else if (typeof child === 'object' && typeof (/** @type {Node} */ (child)).nodeType === 'number') {
    el.appendChild(/** @type {Node} */ (child));
  } else {
    throw new TypeError(`h(): cannot render a child of type ${Object.prototype.toString.call(child)}`);
  }
}

/**
 * @param {HTMLElement} el
 * @param {string} name
 * @param {unknown} value
 */
function setAttribute(el, name, value) {
  if (!ATTRIBUTE_NAME.test(name)) throw new TypeError(`h(): invalid attribute name ${JSON.stringify(name)}`);
  const lower = name.toLowerCase();
  if (lower.startsWith('on')) {
    throw new TypeError(`h(): refusing attribute ${JSON.stringify(name)}; use the \`on\` option for listeners`);
  }
  if (FORBIDDEN_ATTRIBUTES.has(lower)) throw new TypeError(`h(): refusing attribute ${JSON.stringify(name)}`);
  if (value === false || value === null || value === undefined) return;
  const text = value === true ? '' : String(value);
  if (URL_ATTRIBUTES.has(lower) && !isSafeUrl(text)) {
    throw new TypeError(`h(): refusing unsafe URL in ${name}: ${JSON.stringify(text.slice(0, 80))}`);
  }
  el.setAttribute(name, text);
}

/**
 * @param {HTMLElement} el
 * @param {NonNullable<Attrs['style']>} style
 */
function setStyle(el, style) {
  if (typeof style === 'string') {
    el.setAttribute('style', style);
    return;
  }
  for (const [property, value] of Object.entries(style)) {
    if (value === null || value === undefined) continue;
    el.style.setProperty(property, String(value));
  }
}

/**
 * Make an `h` bound to a document.
 * @param {DocumentLike | (() => DocumentLike)} docOrGetter a document, or a function returning
 *   one when `h` is called
 * @returns {(tag: string, attrs?: Attrs & Record<string, unknown> | null, ...children: Child[]) => HTMLElement}
 */
export function createH(docOrGetter) {
  const getDoc = typeof docOrGetter === 'function' ? docOrGetter : () => docOrGetter;
  return function boundH(tag, attrs, ...children) {
    if (typeof tag !== 'string' || !TAG_NAME.test(tag)) throw new TypeError(`h(): invalid tag ${JSON.stringify(tag)}`);
    if (FORBIDDEN_TAGS.has(tag.toLowerCase())) throw new TypeError(`h(): refusing to create <${tag}>`);
    const doc = getDoc();
    if (!doc) throw new TypeError('h(): no document (outside a browser, bind one with createH(doc))');
    const el = doc.createElement(tag);
    for (const [name, value] of Object.entries(attrs ?? {})) {
      if (name === 'on') {
        // Typed per event for callers; at runtime any function is a listener.
        const listeners = /** @type {Record<string, unknown>} */ (value ?? {});
        for (const [type, listener] of Object.entries(listeners)) {
          if (typeof listener !== 'function') throw new TypeError(`h(): listener for ${JSON.stringify(type)} is not a function`);
          el.addEventListener(type, /** @type {EventListener} */ (listener));
        }
      } else if (name === 'style') {
        if (value !== null && value !== undefined) setStyle(el, /** @type {NonNullable<Attrs['style']>} */ (value));
      } else if (name === 'class' || name === 'className') {
        const names = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
        if (names !== null && names !== undefined && names !== false && names !== '') el.setAttribute('class', String(names));
      } else if (name === 'props') {
        for (const [prop, propValue] of Object.entries(/** @type {Attrs['props']} */ (value) ?? {})) {
          if (!ALLOWED_PROPS.has(prop)) throw new TypeError(`h(): refusing property ${JSON.stringify(prop)}`);
          /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[prop] = propValue;
        }
      } else {
        setAttribute(el, name, value);
      }
    }
    for (const child of children) appendChild(doc, el, child);
    return el;
  };
}

/**
 * Create an element in the current global `document` (looked up per call).
 * @type {ReturnType<typeof createH>}
 */
export const h = createH(() => globalThis.document);

/**
 * A name that, when too wide, loses its middle, not its end: two spans, the start cut by CSS
 * with "…" and the end always shown (styles.css `.rh-mid`). Its text is the whole name.
 * @param {string} text
 * @param {string | string[]} [className] extra classes
 * @param {string} [title] hover text (default: the whole name)
 * @returns {HTMLElement}
 */
export function middleName(text, className = [], title = text) {
  const [start, end] = splitForEllipsis(text);
  return h('span', { class: ['rh-mid', ...(Array.isArray(className) ? className : [className])], title },
    h('span', { class: 'rh-mid-start' }, start), h('span', { class: 'rh-mid-end' }, end));
}

/**
 * Replace all children of an element with the given children (same rules as `h`).
 * @param {Element} el
 * @param {...Child} children
 * @returns {Element} the element
 */
export function replaceChildren(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  const doc = /** @type {DocumentLike} */ (el.ownerDocument);
  for (const child of children) appendChild(doc, el, child);
  return el;
}

/**
 * Call `callback` once the next frame has been painted: a message posted from a frame callback
 * is delivered after that frame's paint. Used to time what people see (benchmarks and tests
 * read the results), not for rendering.
 * @param {(paintedAt: number) => void} callback receives `performance.now()` after the paint
 */
export function afterNextPaint(callback) {
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      callback(performance.now());
    };
    channel.port2.postMessage(null);
  });
}
