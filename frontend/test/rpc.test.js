import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createRpc, parseMessage } from '../lib/rpc.js';

/** A fake MessagePort: what this side posts is recorded; `deliver` plays the host. */
function fakePort() {
  const sent = [];
  const port = {
    onmessage: null,
    postMessage: (data) => sent.push(JSON.parse(data)),
    deliver: (message) => port.onmessage({ data: JSON.stringify(message) }),
    sent,
  };
  return port;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test('parseMessage accepts the wire format only', () => {
  assert.deepEqual(parseMessage('{"type":"a","id":1,"payload":{"x":1},"error":null,"isReply":true}'), { type: 'a', id: 1, payload: { x: 1 }, error: null, isReply: true });
  assert.equal(parseMessage('experimental.bootstrap'), null);
  assert.equal(parseMessage('{"type":1,"id":1}'), null);
  assert.equal(parseMessage(null), null);
  assert.equal(parseMessage({ type: 'a', id: 2 }).isReply, false);
});

test('every non-reply message is answered, with or without a listener', async () => {
  const port = fakePort();
  const rpc = createRpc(port);
  let reloaded = 0;
  rpc.listen('experimental.DataReloaded', () => {
    reloaded++;
  });
  port.deliver({ type: 'experimental.DataReloaded', id: 7, payload: null, error: null, isReply: false });
  port.deliver({ type: 'experimental.RunsChanged', id: 8, payload: ['a'], error: null, isReply: false });
  await tick();
  assert.equal(reloaded, 1);
  assert.deepEqual(port.sent.sort((x, y) => x.id - y.id), [
    { type: 'experimental.DataReloaded', id: 7, payload: null, error: null, isReply: true },
    { type: 'experimental.RunsChanged', id: 8, payload: null, error: null, isReply: true },
  ]);
});

test('a failing listener replies with its error', async () => {
  const port = fakePort();
  const errors = [];
  const rpc = createRpc(port, { onError: (e) => errors.push(e) });
  rpc.listen('boom', async () => {
    throw new Error('nope');
  });
  port.deliver({ type: 'boom', id: 1, payload: null, error: null, isReply: false });
  await tick();
  assert.equal(port.sent[0].error, 'nope');
  assert.equal(port.sent[0].isReply, true);
  assert.equal(errors.length, 1);
});

test('send resolves with the matching reply and rejects on an error or timeout', async () => {
  const port = fakePort();
  const rpc = createRpc(port);
  const first = rpc.send('experimental.GetURLPluginData', { pluginName: 'runhistory' });
  const second = rpc.send('experimental.GetRuns');
  assert.deepEqual(port.sent.map((m) => [m.type, m.id, m.isReply]), [['experimental.GetURLPluginData', 0, false], ['experimental.GetRuns', 1, false]]);
  assert.deepEqual(port.sent[0].payload, { pluginName: 'runhistory' });
  port.deliver({ type: 'experimental.GetRuns', id: 1, payload: null, error: 'no runs', isReply: true });
  port.deliver({ type: 'experimental.GetURLPluginData', id: 0, payload: { sel: 'a,b' }, error: null, isReply: true });
  assert.deepEqual(await first, { sel: 'a,b' });
  await assert.rejects(second, /no runs/);
  await assert.rejects(rpc.send('silence', null, { timeoutMs: 5 }), /no reply to silence/);
  port.deliver({ type: 'late', id: 99, payload: 1, error: null, isReply: true }); // unknown id: ignored
});
