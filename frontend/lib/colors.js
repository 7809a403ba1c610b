// @ts-check
/**
 * Run colours: TensorBoard's run palette first (so a run looks familiar next to the Scalars tab),
 * then more colour-blind-friendly hues (Paul Tol's "bright" and "vibrant" sets), and a helper to
 * turn a colour into a translucent fill for the min/max envelope.
 */

/** TensorBoard's chart palette, then Tol's and other colour-blind-aware extras; readable on white and on #202124. */
export const RUN_PALETTE = Object.freeze([
  '#ff7043', '#0077bb', '#cc3311', '#33bbee', '#ee3377', '#009988',
  '#ab47bc', '#7cb342', '#ffb300', '#5c6bc0', '#8d6e63', '#26a69a',
  '#e65100', '#004d99', '#994455', '#66ccee', '#aa3377', '#228833',
  '#7b1fa2', '#c0ca33', '#997700', '#3949ab', '#5d4037', '#00838f',
]);

/** Line dash patterns (px on, px off) combined with the palette: solid first. */
export const DASHES = Object.freeze([[], [7, 3], [2, 3], [9, 3, 2, 3]]);

/** Distinct run styles: every colour with every dash pattern. */
export const STYLE_COUNT = RUN_PALETTE.length * DASHES.length;

/**
 * The colour of the i-th style (the palette repeats, with another dash pattern).
 * @param {number} index
 * @returns {string}
 */
export function runColor(index) {
  const n = RUN_PALETTE.length;
  const i = Number.isInteger(index) ? ((index % n) + n) % n : 0;
  return RUN_PALETTE[i];
}

/**
 * The dash pattern of the i-th style: solid for the first palette round, then dashed, dotted...
 * @param {number} index
 * @returns {number[]}
 */
export function runDash(index) {
  const round = Number.isInteger(index) && index > 0 ? Math.floor(index / RUN_PALETTE.length) % DASHES.length : 0;
  return [...DASHES[round]];
}

/**
 * A style index for each run: the one it had before (`saved`) when no other run here took it,
 * else the lowest free one; past STYLE_COUNT runs styles repeat. Stable across reloads when
 * `saved` is kept, and distinct among the runs shown together.
 * @param {ReadonlyArray<string>} ids
 * @param {ReadonlyMap<string, number>} saved
 * @returns {Map<string, number>}
 */
export function assignStyles(ids, saved) {
  /** @type {Map<string, number>} */
  const out = new Map();
  const used = new Set();
  for (const id of ids) {
    const k = saved.get(id);
    if (k !== undefined && Number.isInteger(k) && k >= 0 && k < STYLE_COUNT && !used.has(k)) {
      out.set(id, k);
      used.add(k);
    }
  }
  let next = 0;
  ids.forEach((id, i) => {
    if (out.has(id)) return;
    while (next < STYLE_COUNT && used.has(next)) next++;
    const k = next < STYLE_COUNT ? next : i % STYLE_COUNT;
    out.set(id, k);
    used.add(k);
  });
  return out;
}

/**
 * "#rrggbb" (or "#rgb") with an alpha, as "rgba(r, g, b, a)"; other strings are returned as given.
 * @param {string} color
 * @param {number} alpha 0..1
 * @returns {string}
 */
export function withAlpha(color, alpha) {
  let hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  if (hex.length === 3) hex = hex.split('').map((c) => c + c).join('');
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const a = Math.min(1, Math.max(0, Number.isFinite(alpha) ? alpha : 1));
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}

/**
 * The style index each run had, kept in storage (localStorage in the tab) so a run keeps its
 * colour across reloads; bounded to the `kept` most recently assigned runs.
 */
export class StyleMemory {
  /**
   * @param {string} key storage key
   * @param {number} kept most runs remembered
   * @param {Pick<Storage, 'getItem' | 'setItem'> | null} [storage] default: localStorage when there is one
   */
  constructor(key, kept, storage = globalThis.localStorage ?? null) {
    this.key = key;
    this.kept = kept;
    this.storage = storage;
    /** @type {Map<string, number>} */
    this.saved = new Map();
    try {
      const entries = JSON.parse(storage?.getItem(key) ?? '[]');
      if (Array.isArray(entries)) this.saved = new Map(entries.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1])));
    } catch {
      // unreadable or disabled storage: start afresh
    }
  }

  /**
   * Styles for the runs shown together (see assignStyles); remembers them.
   * @param {ReadonlyArray<string>} ids
   * @returns {Map<string, number>}
   */
  assign(ids) {
    const styles = assignStyles(ids, this.saved);
    let changed = false;
    for (const [id, k] of styles) {
      if (this.saved.get(id) === k) continue;
      this.saved.delete(id); // re-inserted last: the most recent are kept
      this.saved.set(id, k);
      changed = true;
    }
    if (changed) {
      this.saved = new Map([...this.saved].slice(-this.kept));
      try {
        this.storage?.setItem(this.key, JSON.stringify([...this.saved]));
      } catch {
        // storage full or disabled: colours then follow the selection order
      }
    }
    return styles;
  }
}
