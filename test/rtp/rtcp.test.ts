import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFuzzer } from '../helpers/random';

import {
  RtcpParseError,
  compactNtpToMs,
  dlsrFromMs,
  isRtcp,
  msFromNtp,
  ntpFromMs,
  ntpMiddle32,
  parseRtcpCompound,
  rttFromReportBlock,
  serializeRtcp,
  serializeRtcpCompound,
} from '../../src/rtp/rtcp';
import type { RtcpPacket } from '../../src/rtp/types';
import { rng } from './fixtures';

const b = (...bytes: number[]) => Buffer.from(bytes);
const w = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** SR with one report block, then RR with one block (negative cumulative loss), by hand. */
const SR_RR = b(
  0x81, 0xc8, 0x00, 0x0c, // V=2, RC=1, PT=200 (SR), length 12 words → 52 bytes
  ...w(0x01020304), // sender SSRC
  ...w(0xe8f1a2b3), ...w(0x80000000), // NTP timestamp
  ...w(123456), // RTP timestamp
  ...w(100), ...w(0x12345), // packet and octet counts
  ...w(0x0a0b0c0d), // report block: source
  0x40, 0x00, 0x00, 0x03, // fraction lost 64/256, cumulative 3
  ...w(0x0001ffff), ...w(16), ...w(0xb7052000), ...w(0x00054000), // ext. highest seq, jitter, LSR, DLSR
  0x81, 0xc9, 0x00, 0x07, // V=2, RC=1, PT=201 (RR), 7 words → 32 bytes
  ...w(0x05060708),
  ...w(0x01020304),
  0x00, 0xff, 0xff, 0xff, // fraction 0, cumulative −1 (duplicates outnumber losses)
  ...w(0x00010000), ...w(0), ...w(0), ...w(0),
);

const SR_RR_PACKETS: RtcpPacket[] = [
  {
    type: 'sr',
    ssrc: 0x01020304,
    ntpSec: 0xe8f1a2b3,
    ntpFrac: 0x80000000,
    rtpTimestamp: 123456,
    packetCount: 100,
    octetCount: 0x12345,
    reports: [
      { ssrc: 0x0a0b0c0d, fractionLost: 64, cumulativeLost: 3, highestSeq: 0x1ffff, jitter: 16, lsr: 0xb7052000, dlsr: 0x54000 },
    ],
  },
  {
    type: 'rr',
    ssrc: 0x05060708,
    reports: [{ ssrc: 0x01020304, fractionLost: 0, cumulativeLost: -1, highestSeq: 0x10000, jitter: 0, lsr: 0, dlsr: 0 }],
  },
];

/** PSFB FMT 15 with our identifier, by hand. */
const TBED = b(
  0x8f, 0xce, 0x00, 0x05, // V=2, FMT=15, PT=206, 5 words → 24 bytes
  ...w(0x05060708), // packet sender
  ...w(0x01020304), // media source
  0x54, 0x42, 0x45, 0x44, // 'TBED'
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
);

describe('RTCP packets (RFC 3550 §6, RFC 4585 §6.1)', () => {
  it('parses and writes an SR + RR compound byte for byte', () => {
    assert.deepEqual(parseRtcpCompound(SR_RR), SR_RR_PACKETS);
    assert.deepEqual(serializeRtcpCompound(SR_RR_PACKETS), SR_RR);
  });

  it('parses and writes PSFB FMT 15 application feedback with the TBED identifier', () => {
    const pkt: RtcpPacket = {
      type: 'app-feedback',
      senderSsrc: 0x05060708,
      mediaSsrc: 0x01020304,
      identifier: 'TBED',
      data: b(1, 0, 0, 0, 0, 0, 0, 0x2a),
    };
    assert.deepEqual(parseRtcpCompound(TBED), [pkt]);
    assert.deepEqual(serializeRtcp(pkt), TBED);
    assert.deepEqual(parseRtcpCompound(serializeRtcp({ ...pkt, data: b() })), [{ ...pkt, data: b() }]);
  });

  it('reads REMB as application feedback with identifier REMB (same carriage)', () => {
    // draft-alvestrand-rmcat-remb §2.2: media SSRC 0, 'REMB', Num SSRC=1, BR Exp=2 / Mantissa=250000 → 1 Mbit/s.
    const remb = b(0x8f, 0xce, 0x00, 0x05, ...w(7), ...w(0), 0x52, 0x45, 0x4d, 0x42, 0x01, 0x0b, 0xd0, 0x90, ...w(0x1111));
    const [p] = parseRtcpCompound(remb);
    assert.equal(p.type, 'app-feedback');
    assert.ok(p.type === 'app-feedback');
    assert.equal(p.identifier, 'REMB');
    assert.equal(p.senderSsrc, 7);
    assert.equal(p.mediaSsrc, 0);
    const exp = p.data[1] >> 2;
    const mantissa = ((p.data[1] & 3) << 16) | p.data.readUInt16BE(2);
    assert.equal(mantissa * 2 ** exp, 1_000_000);
  });

  it('writes BYE with and without a reason, padded to 32 bits', () => {
    const bye = serializeRtcp({ type: 'bye', ssrcs: [1, 2], reason: 'ended' });
    assert.deepEqual(bye, b(0x82, 0xcb, 0x00, 0x04, ...w(1), ...w(2), 5, 0x65, 0x6e, 0x64, 0x65, 0x64, 0, 0));
    assert.deepEqual(parseRtcpCompound(bye), [{ type: 'bye', ssrcs: [1, 2], reason: 'ended' }]);
    assert.deepEqual(serializeRtcp({ type: 'bye', ssrcs: [9] }), b(0x81, 0xcb, 0x00, 0x01, ...w(9)));
    assert.deepEqual(parseRtcpCompound(serializeRtcp({ type: 'bye', ssrcs: [9], reason: '' })), [{ type: 'bye', ssrcs: [9] }]);
    const utf: RtcpPacket = { type: 'bye', ssrcs: [3], reason: 'débit épuisé' };
    assert.deepEqual(parseRtcpCompound(serializeRtcp(utf)), [utf]);
  });

  it('returns unknown packets by type and skips them by their length', () => {
    const sdes = b(0x81, 0xca, 0x00, 0x02, ...w(5), 0x01, 0x01, 0x61, 0x00); // CNAME "a"
    const pli = b(0x81, 0xce, 0x00, 0x02, ...w(5), ...w(6)); // PSFB FMT 1 (interpreted)
    const nack = b(0x81, 0xcd, 0x00, 0x03, ...w(5), ...w(6), 0x00, 0x10, 0x00, 0x00); // RTPFB FMT 1 (interpreted)
    const tmmbr = b(0x83, 0xcd, 0x00, 0x04, ...w(5), ...w(0), ...w(6), ...w(0)); // RTPFB FMT 3
    const afbShort = b(0x8f, 0xce, 0x00, 0x02, ...w(5), ...w(6)); // FMT 15 without an identifier
    const afbBinary = b(0x8f, 0xce, 0x00, 0x03, ...w(5), ...w(6), 0x00, 0x01, 0xff, 0x7f);
    const app = b(0x80, 0xcc, 0x00, 0x02, ...w(5), 0x41, 0x42, 0x43, 0x44); // APP
    const rr = serializeRtcp({ type: 'rr', ssrc: 5, reports: [] });
    const all = Buffer.concat([rr, sdes, pli, nack, tmmbr, afbShort, afbBinary, app, TBED]);
    assert.deepEqual(
      parseRtcpCompound(all).map((p) => (p.type === 'unknown' ? `unknown ${p.packetType}/${p.fmt}` : p.type)),
      ['rr', 'unknown 202/1', 'pli', 'nack', 'unknown 205/3', 'unknown 206/15', 'unknown 206/15', 'unknown 204/0', 'app-feedback'],
    );
  });

  it('strips padding and ignores profile-specific extensions after the report blocks', () => {
    const padded = b(0xa0, 0xc9, 0x00, 0x02, ...w(5), 0, 0, 0, 4);
    assert.deepEqual(parseRtcpCompound(padded), [{ type: 'rr', ssrc: 5, reports: [] }]);
    const ext = b(0x80, 0xc9, 0x00, 0x02, ...w(5), 0xde, 0xad, 0xbe, 0xef);
    assert.deepEqual(parseRtcpCompound(ext), [{ type: 'rr', ssrc: 5, reports: [] }]);
  });

  it('round-trips random SR/RR/BYE/feedback compounds', () => {
    const rand = rng(99);
    const u32 = () => Math.floor(rand() * 2 ** 32);
    const block = () => ({
      ssrc: u32(),
      fractionLost: Math.floor(rand() * 256),
      cumulativeLost: Math.floor(rand() * 2 ** 24) - 2 ** 23,
      highestSeq: u32(),
      jitter: u32(),
      lsr: u32(),
      dlsr: u32(),
    });
    for (let i = 0; i < 300; i++) {
      const pkts: RtcpPacket[] = [];
      const blocks = Array.from({ length: Math.floor(rand() * 4) }, block);
      pkts.push(
        rand() < 0.5
          ? { type: 'sr', ssrc: u32(), ntpSec: u32(), ntpFrac: u32(), rtpTimestamp: u32(), packetCount: u32(), octetCount: u32(), reports: blocks }
          : { type: 'rr', ssrc: u32(), reports: blocks },
      );
      if (rand() < 0.5) {
        const data = Buffer.alloc(4 * Math.floor(rand() * 5));
        for (let k = 0; k < data.length; k++) data[k] = Math.floor(rand() * 256);
        pkts.push({ type: 'app-feedback', senderSsrc: u32(), mediaSsrc: u32(), identifier: 'TBED', data });
      }
      if (rand() < 0.3) pkts.push({ type: 'bye', ssrcs: [u32()], reason: 'x'.repeat(Math.floor(rand() * 10) + 1) });
      assert.deepEqual(parseRtcpCompound(serializeRtcpCompound(pkts)), pkts);
    }
  });

  it('clamps cumulative loss to the signed 24-bit range (RFC 3550 A.3)', () => {
    const rr = (cumulativeLost: number): RtcpPacket => ({
      type: 'rr',
      ssrc: 1,
      reports: [{ ssrc: 2, fractionLost: 0, cumulativeLost, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 }],
    });
    const back = (n: number) => {
      const [p] = parseRtcpCompound(serializeRtcp(rr(n)));
      return p.type === 'rr' ? p.reports[0].cumulativeLost : NaN;
    };
    assert.equal(back(10_000_000), 0x7fffff);
    assert.equal(back(-10_000_000), -0x800000);
    assert.equal(back(-5), -5);
  });

  const bad: [string, Buffer][] = [
    ['empty', b()],
    ['header truncated', b(0x80, 0xc9, 0x00)],
    ['version 1', b(0x40, 0xc9, 0x00, 0x01, ...w(5))],
    ['length past the buffer', b(0x80, 0xc9, 0x00, 0x02, ...w(5))],
    ['SR shorter than its sender info', b(0x80, 0xc8, 0x00, 0x02, ...w(5), ...w(6))],
    ['RR with a block count it does not carry', b(0x81, 0xc9, 0x00, 0x01, ...w(5))],
    ['BYE with more SSRCs than it carries', b(0x83, 0xcb, 0x00, 0x01, ...w(5))],
    ['BYE reason past the packet', b(0x81, 0xcb, 0x00, 0x02, ...w(5), 9, 0x61, 0x62, 0x63)],
    ['PSFB without media SSRC', b(0x8f, 0xce, 0x00, 0x01, ...w(5))],
    ['padding count 0', b(0xa0, 0xc9, 0x00, 0x02, ...w(5), 0, 0, 0, 0)],
    ['padding larger than the packet', b(0xa0, 0xc9, 0x00, 0x02, ...w(5), 0, 0, 0, 13)],
    ['second packet truncated', Buffer.concat([SR_RR.subarray(0, 52), SR_RR.subarray(52, 60)])],
  ];
  for (const [name, buf] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(() => parseRtcpCompound(buf), RtcpParseError);
    });
  }

  it('throws only RtcpParseError on random and mutated input (fuzz, seeded)', () => {
    const rand = rng(77);
    const valid = Buffer.concat([SR_RR, TBED, serializeRtcp({ type: 'bye', ssrcs: [1], reason: 'bye' })]);
    const { attempt, counts } = parseFuzzer(parseRtcpCompound, RtcpParseError);
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.alloc(Math.floor(rand() * 64));
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rand() * 256);
      if (buf.length > 3 && rand() < 0.8) {
        buf[0] = 0x80 | (buf[0] & 0x3f);
        buf[1] = 200 + Math.floor(rand() * 7);
        buf.writeUInt16BE(Math.floor(rand() * (buf.length / 4)), 2);
      }
      attempt(buf);
    }
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(valid.subarray(0, Math.floor(rand() * (valid.length + 1))));
      for (let k = 0; k < 2 && buf.length > 0; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      attempt(buf);
    }
    assert.ok(counts.parsed > 100 && counts.rejected > 100, `parsed ${counts.parsed}, rejected ${counts.rejected}`);
  });

  it('refuses to serialize what the wire cannot carry', () => {
    const blk = { ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 };
    const fb = { type: 'app-feedback', senderSsrc: 1, mediaSsrc: 2, identifier: 'TBED', data: b(1, 2, 3, 4) } as const;
    assert.throws(() => serializeRtcp({ type: 'rr', ssrc: 1, reports: new Array(32).fill(blk) }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'rr', ssrc: 1, reports: [{ ...blk, fractionLost: 256 }] }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'rr', ssrc: -1, reports: [] }), RangeError);
    assert.throws(() => serializeRtcp({ ...fb, data: b(1, 2, 3) }), RangeError);
    assert.throws(() => serializeRtcp({ ...fb, identifier: 'TB' }), RangeError);
    assert.throws(() => serializeRtcp({ ...fb, identifier: 'TBÉD' }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'bye', ssrcs: [1], reason: 'x'.repeat(256) }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'unknown', packetType: 202, fmt: 1 }), RangeError);
  });

  it('tells RTCP from RTP on a shared port (RFC 5761 §4)', () => {
    assert.ok(isRtcp(SR_RR));
    assert.ok(isRtcp(TBED));
    assert.ok(!isRtcp(b(0x80, 0xe0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1))); // RTP PT 96 with marker
    assert.ok(!isRtcp(b(0x80, 0x60, 0, 1)));
    assert.ok(!isRtcp(b(0x80)));
  });
});

describe('NTP time and RTT (RFC 3550 §4, §6.4.1)', () => {
  it('converts Unix ms to NTP seconds since 1900 and a 2^-32 fraction', () => {
    assert.deepEqual(ntpFromMs(0), { sec: 2_208_988_800, frac: 0 });
    assert.deepEqual(ntpFromMs(1500), { sec: 2_208_988_801, frac: 0x80000000 });
    assert.deepEqual(ntpFromMs(250.5), { sec: 2_208_988_800, frac: Math.round(0.2505 * 2 ** 32) });
    assert.deepEqual(ntpFromMs(-500), { sec: 2_208_988_799, frac: 0x80000000 });
    for (const ms of [0, 1, 999.999, 1_700_000_000_123.456]) {
      assert.ok(Math.abs(msFromNtp(ntpFromMs(ms)) - ms) < 1e-3, `${ms}`);
    }
  });

  it('takes the middle 32 bits', () => {
    assert.equal(ntpMiddle32({ sec: 0x1234abcd, frac: 0x5678ef01 }), 0xabcd5678);
    assert.equal(ntpMiddle32(0x1234abcd, 0x5678ef01), 0xabcd5678);
    assert.equal(ntpMiddle32({ sec: 0xffffffff, frac: 0xffffffff }), 0xffffffff);
  });

  it('computes RTT = A − LSR − DLSR: the worked example of RFC 3550 §6.4.1', () => {
    // A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.250 s).
    assert.equal(rttFromReportBlock(0xb7108000, 0xb7052000, 0x00054000), 6125);
    assert.equal(compactNtpToMs(0x00062000), 6125);
    assert.equal(dlsrFromMs(5250), 0x00054000);
  });

  it('handles the 16-bit seconds wrap, a report before any SR, and negative results', () => {
    assert.equal(rttFromReportBlock(0x00018000, 0xffff8000, 0x00008000), 1500);
    assert.equal(rttFromReportBlock(0x12345678, 0, 0), null);
    assert.equal(rttFromReportBlock(0x00010000, 0x00010000, 0x00000100), 0);
    // End to end: SR sent at t, echoed after 30 ms, report arrives 50 ms after t.
    const t = 1_700_000_000_000;
    const lsr = ntpMiddle32(ntpFromMs(t));
    const rtt = rttFromReportBlock(ntpMiddle32(ntpFromMs(t + 50)), lsr, dlsrFromMs(30)) as number;
    assert.ok(Math.abs(rtt - 20) < 0.05, `${rtt}`);
  });
});
