/**
 * The signaling channel's goodbye over a real TCP socket pair: the offer's `bye` is read
 * even when the offer closes the channel right after sending it, and a close without one
 * is told apart (the peer vanished).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';

import { createSignaling, SignalingClosedError, waitForBye, type Signaling } from '../../src/transport/signaling';
import { uniquePort } from '../helpers/cli';

async function pair(): Promise<{ offer: Signaling; answer: Signaling; port: number }> {
  const port = uniquePort();
  const opts = { kind: 'tcp-socket' as const, host: '127.0.0.1', port, path: '' };
  const offer = createSignaling(opts);
  const answer = createSignaling(opts);
  await Promise.all([offer.connect('offer', 5000), answer.connect('answer', 5000)]);
  return { offer, answer, port };
}

describe('signaling goodbye', () => {
  it('a bye sent just before the offer closes the channel is read; the close comes after it', async () => {
    const { offer, answer } = await pair();
    const seen: string[] = [];
    answer.onClose(() => seen.push('close'));
    const bye = waitForBye(answer).then((reason) => seen.push(`bye: ${reason}`));
    await offer.send({ type: 'bye', reason: 'end of stream' });
    offer.close();
    await bye;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, ['bye: end of stream', 'close']);
    answer.close();
  });

  it('malformed lines are skipped; a close without a bye rejects with SignalingClosedError', async () => {
    const port = uniquePort();
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    server.once('connection', (s) => s.end('not json\n{"type":"offer"}\n'));
    const answer = createSignaling({ kind: 'tcp-socket', host: '127.0.0.1', port, path: '' });
    await answer.connect('answer', 5000);
    await assert.rejects(waitForBye(answer), SignalingClosedError);
    answer.close();
    server.close();
  });

  it('receive(Infinity) waits without a timer firing at once', async () => {
    const { offer, answer } = await pair();
    const got = answer.receive(Infinity);
    await new Promise((r) => setTimeout(r, 30));
    await offer.send({ type: 'bye', reason: 'later' });
    assert.deepEqual(await got, { type: 'bye', reason: 'later' });
    offer.close();
    answer.close();
  });
});
