// @ts-check
/**
 * TensorBoard's plugin messaging protocol over a MessagePort, as pure logic over a port-like
 * object (so Node tests can drive it with a fake).
 *
 * Wire format (tensorboard/components/experimental/plugin_util): every message is a JSON string
 * `{type, id, payload, error, isReply}`. A request gets exactly one reply with the same `type`
 * and `id` and `isReply: true`; the host waits for a reply to everything it sends
 * ("experimental.DataReloaded", "experimental.RunsChanged", ...), so this side answers every
 * non-reply message, with `payload: null` when nothing here listens to that type. A listener may
 * be async; a throwing listener answers with `error` set to its message.
 */

/**
 * @typedef {Object} PortLike
 * @property {(data: string) => void} postMessage
 * @property {((event: {data: unknown}) => void) | null} onmessage
 */

/**
 * @typedef {Object} Message
 * @property {string} type
 * @property {number} id
 * @property {unknown} payload
 * @property {unknown} error
 * @property {boolean} isReply
 */

/**
 * @typedef {Object} Rpc
 * @property {(type: string, payload?: unknown, options?: {timeoutMs?: number}) => Promise<unknown>} send
 *   a request; resolves with the reply's payload, rejects with its error or after `timeoutMs`
 * @property {(type: string, listener: (payload: unknown) => unknown) => void} listen
 * @property {(type: string) => void} unlisten
 */

/**
 * Parse one wire message; null for anything that is not a protocol message.
 * @param {unknown} data
 * @returns {Message | null}
 */
export function parseMessage(data) {
  let value = data;
  if (typeof data === 'string') {
    try {
      value = JSON.parse(data);
    } catch {
      return null;
    }
  }
  if (value === null || typeof value !== 'object') return null;
  const m = /** @type {Record<string, unknown>} */ (value);
  if (typeof m.type !== 'string' || typeof m.id !== 'number') return null;
  return { type: m.type, id: m.id, payload: m.payload ?? null, error: m.error ?? null, isReply: m.isReply === true };
}

/**
 * Speak the protocol over `port` (its `onmessage` is taken over).
 * @param {PortLike} port
 * @param {{onError?: (error: unknown) => void}} [options]
 * @returns {Rpc}
 */
export function createRpc(port, { onError = () => {} } = {}) {
  let nextId = 0;
  /** @type {Map<number, {resolve: (v: unknown) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> | null}>} */
  const waiting = new Map();
  /** @type {Map<string, (payload: unknown) => unknown>} */
  const listeners = new Map();

  /** @param {Message} message */
  const post = (message) => {
    try {
      port.postMessage(JSON.stringify(message));
    } catch (error) {
      onError(error);
    }
  };

  /** @param {Message} message */
  async function answer(message) {
    const listener = listeners.get(message.type);
    let payload = null;
    let error = null;
    if (listener) {
      try {
        payload = (await listener(message.payload)) ?? null;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        onError(e);
      }
    }
    post({ type: message.type, id: message.id, payload, error, isReply: true });
  }

  port.onmessage = (event) => {
    const message = parseMessage(event.data);
    if (message === null) return;
    if (!message.isReply) {
      void answer(message);
      return;
    }
    const wait = waiting.get(message.id);
    if (!wait) return;
    waiting.delete(message.id);
    if (wait.timer !== null) clearTimeout(wait.timer);
    if (message.error !== null) wait.reject(new Error(String(message.error)));
    else wait.resolve(message.payload);
  };

  return {
    send(type, payload = null, { timeoutMs = 0 } = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = timeoutMs > 0
          ? setTimeout(() => {
            waiting.delete(id);
            reject(new Error(`no reply to ${type} within ${timeoutMs} ms`));
          }, timeoutMs)
          : null;
        waiting.set(id, { resolve, reject, timer });
        post({ type, id, payload, error: null, isReply: false });
      });
    },
    listen(type, listener) {
      listeners.set(type, listener);
    },
    unlisten(type) {
      listeners.delete(type);
    },
  };
}
