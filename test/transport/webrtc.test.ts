/**
 * The werift adapter: these tests fail loudly if werift changes the internals we use
 * (DTLS transport's startSrtp/srtp/srtcp, the ICE connection's send/onData, the socket
 * behind the nominated pair) or how it numbers header extensions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as werift from 'werift';
import { rng } from '../helpers/random';
import { installSrtpTap, RocEstimator, WebRtcPeer } from '../../src/transport/webrtc';
import { EXT_ID } from '../../src/rtp/types';
import { serializeRtp, parseRtp } from '../../src/rtp/packet';
import { parseRtcpCompound, serializeRtcpCompound } from '../../src/rtp/rtcp';

test('werift still has the internals the adapter patches', () => {
  const proto = (werift.RTCDtlsTransport as unknown as { prototype: Record<string, unknown> }).prototype;
  assert.equal(typeof proto.startSrtp, 'function');
  assert.equal(typeof proto.updateSrtpSession, 'function');
  installSrtpTap();
  installSrtpTap(); // idempotent
});

async function connectedPair(streams: number) {
  const a = WebRtcPeer.create({ iceHost: '127.0.0.1' });
  const b = WebRtcPeer.create({ iceHost: '127.0.0.1' });
  const offer = await a.createOffer(streams);
  const answer = await b.acceptOffer(offer);
  await a.acceptAnswer(answer);
  await Promise.all([a.connected(10_000), b.connected(10_000)]);
  return { a, b, offer };
}

test('two peers connect over loopback (ICE, DTLS-SRTP); our RTP and our PSFB FMT 15 pass the tap', { timeout: 30_000 }, async () => {
  const { a, b, offer } = await connectedPair(2);
  try {
    assert.match(offer, new RegExp(`a=extmap:${EXT_ID.frameMarking} urn:testbed:rtp-hdrext:frame-id`));
    const na = a.negotiated();
    const nb = b.negotiated();
    assert.deepEqual(na, nb, 'both ends agree on SSRCs and payload type');
    assert.equal(na.ssrcs.length, 2);

    const got: Buffer[] = [];
    const arrivals: number[] = [];
    b.onRtp = (buf, t) => {
      got.push(buf);
      arrivals.push(t);
    };
    const rtcpAtA: Buffer[] = [];
    a.onRtcp = (buf) => rtcpAtA.push(buf);

    const sent = Array.from({ length: 50 }, (_, i) =>
      serializeRtp({
        payloadType: na.payloadType,
        sequenceNumber: (65530 + i) & 0xffff,
        timestamp: 1000 * i,
        ssrc: na.ssrcs[i % 2],
        marker: i % 5 === 4,
        extensions: { absSendTime: 1234, transportWideSeq: i, frameId: { frameId: Math.floor(i / 5), start: i % 5 === 0, end: i % 5 === 4, key: i < 5 } },
        payload: Buffer.alloc(100 + i, i),
      }),
    );
    const onWire = sent.map((p) => a.sendRtp(p) - p.length);
    // SRTP tag (10 for AES_CM_128_HMAC_SHA1_80, 16 for AEAD_AES_128_GCM) + UDP 8 + IPv4 20 on loopback:
    // the remote candidate's address (werift's nominated pair) is read for the IP version.
    assert.ok(onWire.every((o) => o === onWire[0]), 'the same overhead on every packet');
    assert.ok(onWire[0] === 38 || onWire[0] === 44, `transport overhead ${onWire[0]} bytes`);
    b.sendRtcp(
      serializeRtcpCompound([{ type: 'app-feedback', senderSsrc: 1, mediaSsrc: na.ssrcs[0], identifier: 'TBED', data: Buffer.from([9, 8, 7, 6]) }]),
    );
    const deadline = Date.now() + 5000;
    while ((got.length < sent.length || rtcpAtA.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    assert.equal(got.length, sent.length, 'every RTP packet arrived');
    for (let i = 0; i < sent.length; i++) assert.deepEqual(parseRtp(got[i]), parseRtp(sent[i]), `packet ${i} byte-identical after SRTP`);
    assert.ok(arrivals.every((t, i) => i === 0 || t >= arrivals[i - 1]), 'arrival times are monotonic');
    const fb = parseRtcpCompound(rtcpAtA[0]);
    assert.equal(fb[0].type, 'app-feedback');
    if (fb[0].type === 'app-feedback') {
      assert.equal(fb[0].identifier, 'TBED');
      assert.deepEqual([...fb[0].data], [9, 8, 7, 6]);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test('malformed SDP is a TransportError with one line', async () => {
  const b = WebRtcPeer.create({ iceHost: '127.0.0.1' });
  await assert.rejects(b.acceptOffer('v=0\r\ngarbage'), (e: Error) => e.name === 'TransportError' && !e.message.includes('\n'));
  await b.close();
});

test('RFC 3711 index estimation: the rollover counter follows the highest index, whatever came just before', () => {

  const r = new RocEstimator();
  assert.equal(r.roc(7, 65000), 0);
  r.update(7, 65000, 0);
  // A burst of losses across the wrap: the next packet is 300 after it (werift's own rule wants ±100).
  assert.equal(r.roc(7, 300), 1);
  r.update(7, 300, 1);
  // A late retransmission from before the wrap, then new packets.
  assert.equal(r.roc(7, 64990), 0);
  r.update(7, 64990, 0);
  assert.equal(r.roc(7, 301), 1);
  assert.equal(r.roc(8, 5), 0, 'SSRCs are independent');
});

test('RTP across a sequence-number wrap with a 300-packet gap and a late retransmission decrypts with the rollover counter pinned at both ends', { timeout: 30_000 }, async () => {
  const { a, b } = await connectedPair(1);
  try {
    const n = a.negotiated();
    const got: number[] = [];
    b.onRtp = (buf) => got.push(parseRtp(buf).sequenceNumber);
    const send = (seq: number) =>
      a.sendRtp(serializeRtp({ payloadType: n.payloadType, sequenceNumber: seq, timestamp: seq, ssrc: n.ssrcs[0], marker: false, extensions: {}, payload: Buffer.alloc(50, seq & 0xff) }));
    // 65000..65019 arrive; 65020..299 are "lost" (never sent); then 300..309, a retransmission
    // of 65010, and 310..319 (without loss both ends apply the same rule; this checks the pinning itself).
    const seqs = [...Array.from({ length: 20 }, (_, i) => 65000 + i), ...Array.from({ length: 10 }, (_, i) => 300 + i), 65010, ...Array.from({ length: 10 }, (_, i) => 310 + i)];
    for (const s of seqs) {
      send(s);
      await new Promise((r) => setTimeout(r, 2));
    }
    const deadline = Date.now() + 3000;
    while (got.length < seqs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([...got].sort((x, y) => x - y), [...seqs].sort((x, y) => x - y));
  } finally {
    await a.close();
    await b.close();
  }
});

test('a burst of garbage UDP at the media port (random, STUN-, DTLS-, RTP- and RTCP-looking) does not end the session', { timeout: 30_000 }, async () => {
  const { a, b } = await connectedPair(1);
  const sock = dgram.createSocket('udp4');
  try {
    const n = a.negotiated();
    const target = b.localMediaAddress();
    assert.ok(target, 'the answer has a nominated local address');
    let got = 0;
    b.onRtp = () => got++;
    let rtcp = 0;
    b.onRtcp = () => rtcp++;
    let seq = 0;
    const send = () => a.sendRtp(serializeRtp({ payloadType: n.payloadType, sequenceNumber: seq++ & 0xffff, timestamp: seq * 3000, ssrc: n.ssrcs[0], marker: true, extensions: {}, payload: Buffer.alloc(200, 7) }));
    const media = setInterval(send, 5);
    await new Promise((r) => setTimeout(r, 300));
    const before = got;
    assert.ok(before > 10, `media flows before the burst (${before} packets)`);
    // 4000 datagrams, first byte chosen so werift's demultiplexer (RFC 7983) sends each kind
    // to STUN, DTLS and SRTP/SRTCP alike; the rest random.
    const rand = rng(99);
    const firstBytes = [0x00, 0x01, 0x16, 0x14, 0x17, 0x80, 0x81, 0x90];
    for (let i = 0; i < 4000; i++) {
      const d = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 1200) }, () => Math.floor(rand() * 256)));
      d[0] = firstBytes[i % firstBytes.length];
      if (d[0] >= 0x80 && d.length > 1) d[1] = i % 2 ? n.payloadType : 200 + (i % 7); // RTP or RTCP packet types
      sock.send(d, target!.port, target!.address);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    const during = got;
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(media);
    assert.ok(got - during > 50, `media still flows after the burst (${got - during} packets in 0.5 s)`);
    assert.equal(rtcp, 0, 'no garbage reached the RTCP handler as if authenticated');
  } finally {
    sock.close();
    await a.close();
    await b.close();
  }
});
