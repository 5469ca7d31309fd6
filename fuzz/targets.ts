/**
 * What the fuzz pass feeds: every parser that reads input from outside the process — the
 * wire (RTP and its header extensions, RTCP compounds with our application feedback, the
 * H.264 depacketizer, SDP through werift, signaling messages) and files (canonical traces,
 * each importer, experiment specs). Each target has valid seeds to mutate, the error type(s)
 * its parser documents, and a check of what it accepted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { UsageError } from '../src/cli/session';
import { commanderArgChecker } from '../src/experiments/arg-check';
import { parseSpec, projectRoot } from '../src/experiments/spec';
import { TraceError } from '../src/emulation/traces/errors';
import { formatTrace, parseTrace } from '../src/emulation/traces/format';
import { importTrace, type ImportFormat } from '../src/emulation/traces/importers';
import { generateModel } from '../src/emulation/traces/model';
import { decodeAppMessage, encodeAppMessage } from '../src/rtp/app-feedback';
import { depacketizeH264, H264DepacketizeError, joinAnnexB, packetizeH264 } from '../src/rtp/h264';
import { parseRtp, RtpParseError, serializeRtp } from '../src/rtp/packet';
import { parseRtcpCompound, RtcpParseError, serializeRtcpCompound } from '../src/rtp/rtcp';
import { parseSignalMessage, SignalingError } from '../src/transport/signaling';
import { parseSdp, TransportError } from '../src/transport/webrtc';
import { random } from './mutate';

type ErrorClass = new (...args: never[]) => Error;

export interface FuzzTarget {
  name: string;
  /** Bytes are mutated as bytes, text as tokens and lines too. */
  kind: 'bytes' | 'text';
  seeds: () => (Buffer | string)[];
  /** Parses one input; what it returns is checked for non-finite numbers. */
  run: (input: Buffer | string) => unknown;
  errors: ErrorClass[];
}

const bytes = (n: number, seed: number) => {
  const r = random(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
};

/** Payloads packed as [u16 length][payload]… so one input holds a whole frame's packets. */
function packPayloads(payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));
}

function unpackPayloads(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o + 2 <= b.length; ) {
    const n = b.readUInt16BE(o);
    out.push(b.subarray(o + 2, o + 2 + n));
    o += 2 + n;
  }
  return out;
}

const INFO = { hostname: 'host', bootId: '0f1e2d3c', pid: 42, version: '0.1.0' };
const ENCODER = { width: 1280, height: 720, fps: 30, bitrateBps: 222222, vbvBufferMs: 1000, preset: 'veryfast', tune: 'zerolatency' };

/** A werift-style offer: what `testbed offer` sends, trimmed to what shapes the parser's paths. */
const SDP = [
  'v=0', 'o=- 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic:WMS *',
  'm=video 9 UDP/TLS/RTP/SAVPF 102', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef0123456789',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
  'a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'a=ssrc:1111 cname:x',
  'a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', 'a=end-of-candidates',
  'm=video 9 UDP/TLS/RTP/SAVPF 102', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:102 H264/90000',
].join('\r\n') + '\r\n';

function traceTargets(): FuzzTarget[] {
  const model = formatTrace(generateModel({ family: '4g', seed: 3, durationS: 20, name: 'f' }).trace);
  const imports: [ImportFormat, string[], object][] = [
    ['mahimahi', ['1\n2\n2\n7\n13\n20\n', '0\n5\n5\n5\n1000\n'], {}],
    ['text', ['# t rate\n1000.5 2.5\n1000.7, 2.0\n1001.7\t2.0\n1004.7 0.35\n', '0 1\n1 2\n2 3\n12 4\n'], { unit: 'Mbit' }],
    ['csv', ['Timestamp,DL_bitrate,run\n2018.02.12_13.49.51,-,1\n2018.02.12_13.49.52,1200,1\n2018.02.12_13.49.52,800,1\n2018.02.12_13.49.55,0,2\n'], { column: 'DL_bitrate', timeColumn: 'Timestamp', unit: 'kbit', where: [{ column: 'run', value: '1' }] }],
    ['json', ['[{"duration": 2000, "capacity": 1500.4}, {"duration": 1000, "capacity": 0}]', '{"pattern": [{"duration": 5, "capacity": 5, "x": 1}]}'], {}],
    ['alphartc', ['{"type":"video","downlink":{},"uplink":{"trace_pattern":[{"duration":2000,"capacity":300,"loss":0,"rtt":80,"jitter":0},{"duration":1500,"capacity":1200,"loss":2,"rtt":80}]}}'], {}],
  ];
  return [
    { name: 'trace (canonical)', kind: 'text', seeds: () => [model, '# testbed-trace v1\n# duration_s: 3\ntime_s,up_kbit,down_kbit,up_delay_ms,down_delay_ms,up_loss_pct,down_loss_pct\n0,100,,5,,1,\n1.5,0,20,,,,\n'], run: (t) => parseTrace(String(t), 'f.trace'), errors: [TraceError] },
    ...imports.map(([format, seeds, opts]): FuzzTarget => ({
      name: `import ${format}`,
      kind: 'text',
      seeds: () => seeds,
      run: (t) => importTrace(format, String(t), 'f', { name: 'f', family: 'other' }, opts),
      errors: [TraceError],
    })),
  ];
}

export function targets(): FuzzTarget[] {
  const payload = bytes(900, 1);
  const rtpSeeds = () => [
    serializeRtp({ payloadType: 102, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x11111111, marker: true, payload, extensions: { absSendTime: 0x123456, transportWideSeq: 7, frameId: { frameId: 1234, start: true, end: true, key: true, refDelta: 3 }, frameRef: { refFrameId: 1200, seedHash: 0xdeadbeef } } }),
    serializeRtp({ payloadType: 102, sequenceNumber: 1, timestamp: 3000, ssrc: 2, marker: false, payload: payload.subarray(0, 20), extensions: { frameId: { frameId: 5, start: false, end: false, key: false } } }),
    serializeRtp({ payloadType: 96, sequenceNumber: 9, timestamp: 1, ssrc: 3, marker: false, payload: Buffer.alloc(0), extensions: {} }),
  ];
  const twcc = { type: 'twcc' as const, senderSsrc: 1, mediaSsrc: 2, baseSeq: 65530, referenceTimeMs: 6400, feedbackCount: 9, packets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ seq: (65530 + i) & 0xffff, receivedAtMs: i % 3 === 0 ? null : 1000 + i * 7.25 - (i === 5 ? 90 : 0) })) };
  const rtcpSeeds = () => [
    serializeRtcpCompound([
      { type: 'sr', ssrc: 1, ntpSec: 3900000000, ntpFrac: 123, rtpTimestamp: 9, packetCount: 10, octetCount: 11000, reports: [{ ssrc: 2, fractionLost: 3, cumulativeLost: -2, highestSeq: 70000, jitter: 12, lsr: 5, dlsr: 6 }] },
      { type: 'bye', ssrcs: [1, 2], reason: 'end of stream' },
    ]),
    serializeRtcpCompound([{ type: 'rr', ssrc: 3, reports: [] }, twcc, { type: 'nack', senderSsrc: 3, mediaSsrc: 2, seqs: [65535, 0, 2, 17, 40] }, { type: 'pli', senderSsrc: 3, mediaSsrc: 2 }]),
    serializeRtcpCompound([
      { type: 'app-feedback', senderSsrc: 3, mediaSsrc: 2, identifier: 'TBED', data: encodeAppMessage({ kind: 'clock-echo', lsr: 7, receivedMs: 1234.5, sentMs: 1240.25 }) },
      { type: 'app-feedback', senderSsrc: 3, mediaSsrc: 2, identifier: 'TBED', data: encodeAppMessage({ kind: 'caught-up', frameId: 60, pictureId: 66 }) },
    ]),
  ];
  const au = joinAnnexB([Buffer.concat([Buffer.from([0x67]), bytes(12, 2)]), Buffer.concat([Buffer.from([0x68]), bytes(4, 3)]), Buffer.concat([Buffer.from([0x65]), bytes(2500, 4)]), Buffer.concat([Buffer.from([0x41]), bytes(30, 5)])]);
  const specsDir = join(projectRoot(), 'experiments');
  const specSeeds = () => readdirSync(specsDir).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(specsDir, f), 'utf8'));
  const check = commanderArgChecker(buildCli);
  return [
    { name: 'rtp', kind: 'bytes', seeds: rtpSeeds, run: (b) => parseRtp(b as Buffer), errors: [RtpParseError] },
    { name: 'rtcp compound', kind: 'bytes', seeds: rtcpSeeds, run: (b) => parseRtcpCompound(b as Buffer), errors: [RtcpParseError] },
    {
      name: 'app feedback',
      kind: 'bytes',
      seeds: () => [encodeAppMessage({ kind: 'clock-echo', lsr: 1, receivedMs: 2, sentMs: 3 }), encodeAppMessage({ kind: 'iframe-complete', frameId: 4 }), encodeAppMessage({ kind: 'caught-up', frameId: 5, pictureId: 6 })],
      run: (b) => decodeAppMessage(b as Buffer),
      errors: [],
    },
    { name: 'h264 depacketizer', kind: 'bytes', seeds: () => [packPayloads(packetizeH264(au, 300)), packPayloads(packetizeH264(au.subarray(0, 40), 1200))], run: (b) => depacketizeH264(unpackPayloads(b as Buffer)), errors: [H264DepacketizeError] },
    { name: 'sdp (werift)', kind: 'text', seeds: () => [SDP], run: (t) => parseSdp(String(t)), errors: [TransportError] },
    {
      name: 'signaling',
      kind: 'text',
      seeds: () => [
        JSON.stringify({ type: 'offer', sdp: SDP, info: INFO, media: { mode: 'dual', backupReference: 'shared', encoder: ENCODER, keyint: 60 } }),
        JSON.stringify({ type: 'answer', sdp: 'v=0\r\n', info: INFO }),
        JSON.stringify({ type: 'bye', reason: 'end of stream' }),
      ],
      run: (t) => parseSignalMessage(String(t)),
      errors: [SignalingError],
    },
    ...traceTargets(),
    { name: 'experiment spec', kind: 'text', seeds: specSeeds, run: (t) => parseSpec(String(t), join(specsDir, 'fuzz.json'), check), errors: [UsageError] },
  ];
}
