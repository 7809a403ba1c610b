// @ts-check
/**
 * Run colours: TensorBoard's run palette first (so a run looks familiar next to the Scalars tab),
 * then more colour-blind-friendly hues (Paul Tol's "bright" and "vibrant" sets), and a helper to
 * turn a colour into a translucent fill for the min/max envelope.
 */

/** TensorBoard's chart palette, then Tol's extras; readable on white and on #202124. */
export const RUN_PALETTE = Object.freeze([
  '#ff7043', '#0077bb', '#cc3311', '#33bbee', '#ee3377', '#009988',
  '#ab47bc', '#7cb342', '#ffb300', '#5c6bc0', '#8d6e63', '#26a69a',
]);

/**
 * The colour of the i-th selected run (the palette repeats after 12).
 * @param {number} index
 * @returns {string}
 */
export function runColor(index) {
  const n = RUN_PALETTE.length;
  const i = Number.isInteger(index) ? ((index % n) + n) % n : 0;
  return RUN_PALETTE[i];
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
