/**
 * The signaling channel's goodbye over a real TCP socket pair: the offer's `bye` is read
 * even when the offer closes the channel right after sending it, and a close without one
 * is told apart (the peer vanished).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';

import { createSignaling, parseSignalMessage, SignalingClosedError, SignalingError, waitForBye, type Signaling } from '../../src/transport/signaling';
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

describe('signaling messages from a peer', () => {
  const info = { hostname: 'h', bootId: 'b', pid: 1, version: 'v' };
  const encoder = { width: 640, height: 360, fps: 30, bitrateBps: 1e6, vbvBufferMs: 1000, preset: 'veryfast', tune: 'zerolatency' };
  const parse = (m: unknown) => parseSignalMessage(JSON.stringify(m));

  it('accepts offers, answers and byes, dropping fields it does not know', () => {
    const media = { mode: 'dual', backupReference: 'shared', encoder, keyint: 60 };
    assert.deepEqual(parse({ type: 'offer', sdp: 'v=0\r\n', info, media, later: 1 }), { type: 'offer', sdp: 'v=0\r\n', info, media });
    assert.deepEqual(parse({ type: 'answer', sdp: 'v=0\n', info }), { type: 'answer', sdp: 'v=0\n', info });
    assert.deepEqual(parse({ type: 'bye', reason: 'end of stream' }), { type: 'bye', reason: 'end of stream' });
  });

  it('keeps a bye whose reason is missing or not text (the run must still end)', () => {
    assert.deepEqual(parse({ type: 'bye', reason: { toString: 0 } }), { type: 'bye', reason: '' });
    assert.deepEqual(parse({ type: 'bye' }), { type: 'bye', reason: '' });
  });

  it('refuses malformed messages with one line naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'offer', sdp: 'v=0\r\n', info: null }, /^malformed offer: info: .*expected object, received null$/],
      [{ type: 'offer', sdp: 'v=0\r\n', info: [] }, /^malformed offer: info: /],
      [{ type: 'answer', sdp: 'v=0\r\n', info: { ...info, pid: -1 } }, /^malformed answer: info\.pid: /],
      [{ type: 'offer', sdp: 'v=0\r\n', info, media: 5 }, /^malformed offer: media: /],
      [{ type: 'offer', sdp: 'v=0\r\n', info, media: { mode: 'triple', backupReference: 'shared', encoder } }, /^malformed offer: media\.mode: /],
      [{ type: 'offer', sdp: 'v=0\r\n', info, media: { mode: 'dual', backupReference: 'shared', encoder: { ...encoder, width: 1e9 } } }, /^malformed offer: media\.encoder\.width: /],
      [{ type: 'offer', sdp: 'm=video', info }, /^malformed SDP in the offer \(it does not start with 'v=0'\)$/],
      [{ type: { toString: 0 } }, /^malformed signaling message \(expected an offer, answer or bye\)$/],
      [[1, 2], /^malformed signaling message \(expected an offer, answer or bye\)$/],
    ];
    for (const [m, re] of cases) {
      assert.throws(() => parse(m), (e: Error) => e instanceof SignalingError && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(m));
    }
  });
});
