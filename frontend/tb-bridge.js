// @ts-check
/**
 * The link to the TensorBoard page around this iframe.
 *
 * - Messaging: posts "experimental.bootstrap" with a MessagePort to the parent, then speaks the
 *   JSON protocol of lib/rpc.js over it: answers every host message (the host waits for
 *   replies), refreshes on "experimental.DataReloaded" (TensorBoard's reload button and its
 *   auto-reload), and asks for this plugin's URL-hash keys with
 *   "experimental.GetURLPluginData".
 * - URL hash: TensorBoard has no message to write the hash, but the iframe is same-origin, so
 *   the state is written into `window.top`'s hash with `history.replaceState` (no history
 *   entries, no hashchange event for TensorBoard to react to).
 * - Navigation to the native tabs ("Open in Scalars") sets `window.top.location.hash`.
 * Standalone (the module opened outside TensorBoard), every call degrades to a no-op.
 */

import { createRpc } from './lib/rpc.js';
import { HASH_PREFIX, decodeHashState, fromPluginData, updateHash } from './lib/hash-state.js';

const PLUGIN_NAME = 'runhistory';
/** How long to wait for the host to answer GetURLPluginData before reading the hash directly. */
const HOST_TIMEOUT_MS = 1500;

/**
 * @returns {Window | null} the TensorBoard window, when reachable (same origin)
 */
function topWindow() {
  try {
    const top = window.top;
    if (!top || top === window) return null;
    void top.location.hash; // throws for a cross-origin parent
    return top;
  } catch {
    return null;
  }
}

/**
 * @typedef {Object} Bridge
 * @property {() => Promise<Map<string, string>>} readState this plugin's hash keys (unprefixed)
 * @property {(state: Map<string, unknown>) => void} writeState replace this plugin's hash keys
 * @property {(hash: string) => void} navigate set the TensorBoard hash (another tab)
 * @property {(listener: () => void) => void} onDataReloaded
 * @property {() => boolean} darkMode whether TensorBoard's own dark mode is on
 * @property {(listener: (dark: boolean) => void) => void} onDarkModeChange
 * @property {boolean} embedded
 */

/**
 * Connect to TensorBoard (once per iframe).
 * @returns {Bridge}
 */
export function connectBridge() {
  /** @type {Array<() => void>} */
  const reloadListeners = [];
  const top = topWindow();
  /** @type {import('./lib/rpc.js').Rpc | null} */
  let rpc = null;
  if (window.parent && window.parent !== window) {
    const channel = new MessageChannel();
    rpc = createRpc(/** @type {any} */ (channel.port1), { onError: (e) => console.warn('runhistory: message handler failed', e) });
    rpc.listen('experimental.DataReloaded', () => {
      for (const listener of reloadListeners) listener();
      return null;
    });
    // The host checks `event.data === "experimental.bootstrap"` and takes ports[0].
    window.parent.postMessage('experimental.bootstrap', window.location.origin, [channel.port2]);
  }

  const darkOf = () => {
    try {
      return Boolean(top?.document.body.classList.contains('dark-mode'));
    } catch {
      return false;
    }
  };

  return {
    embedded: top !== null,
    async readState() {
      if (rpc) {
        try {
          const data = await rpc.send('experimental.GetURLPluginData', { pluginName: PLUGIN_NAME }, { timeoutMs: HOST_TIMEOUT_MS });
          const state = fromPluginData(data);
          if (state.size > 0 || !top) return state;
        } catch {
          // an older TensorBoard, or a host that never answers: read the hash ourselves
        }
      }
      return top ? decodeHashState(top.location.hash, HASH_PREFIX) : new Map();
    },
    writeState(state) {
      if (!top) return;
      try {
        const next = updateHash(top.location.hash, /** @type {any} */ (state), HASH_PREFIX);
        if (next !== top.location.hash && `#${top.location.hash.replace(/^#/, '')}` !== next) {
          top.history.replaceState(top.history.state, '', next);
        }
      } catch (error) {
        console.warn('runhistory: cannot write the URL hash', error);
      }
    },
    navigate(hash) {
      const target = top ?? window;
      target.location.hash = hash;
    },
    onDataReloaded(listener) {
      reloadListeners.push(listener);
    },
    darkMode: darkOf,
    onDarkModeChange(listener) {
      if (!top) return;
      let last = darkOf();
      new MutationObserver(() => {
        const now = darkOf();
        if (now !== last) {
          last = now;
          listener(now);
        }
      }).observe(top.document.body, { attributes: true, attributeFilter: ['class'] });
    },
  };
}
