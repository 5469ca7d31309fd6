/**
 * Our messages inside RTCP PSFB FMT 15 application-layer feedback (identifier 'TBED',
 * carried the way REMB is, draft-alvestrand-rmcat-remb §2.2). The first data byte
 * says which message follows.
 */
export const APP_IDENTIFIER = 'TBED';

export type AppMessage =
  /**
   * Receiver → sender, sent at once on every SR: lets the sender estimate the offset
   * between the two monotonic clocks NTP-style (t0 SR sent, t1 SR received, t2 this
   * sent, t3 this received), for peers on different hosts.
   */
  | { kind: 'clock-echo'; lsr: number; receivedMs: number; sentMs: number }
  /** Receiver → sender: the primary I-frame of picture `frameId` is complete. */
  | { kind: 'iframe-complete'; frameId: number }
  /**
   * Receiver → sender: the primary stream has caught up after the I-frame of picture
   * `frameId` — its version of picture `pictureId` arrived right behind its backup twin,
   * no longer queued behind the I-frame's backlog.
   */
  | { kind: 'caught-up'; frameId: number; pictureId: number }
  /**
   * Sender → receiver, at the end of the stream, repeated until answered: `frameId` is
   * the last picture sent, `lastSeq` the primary stream's last RTP sequence number — a
   * lost tail has no later packet to reveal the gap, so without it the receiver would
   * never ask for the last picture's missing packets. (The same PSFB FMT 15 carrier in
   * the other direction: RFC 4585 feedback flows to the media sender, but the message is
   * ours at both ends.)
   */
  | { kind: 'end-of-stream'; frameId: number; lastSeq: number }
  /** Receiver → sender, the answer: picture `frameId` settled, rendered or given up. */
  | { kind: 'settled'; frameId: number; rendered: boolean };

const KIND_CLOCK_ECHO = 1;
const KIND_IFRAME_COMPLETE = 2;
const KIND_CAUGHT_UP = 3;
const KIND_END_OF_STREAM = 4;
const KIND_SETTLED = 5;

export function encodeAppMessage(m: AppMessage): Buffer {
  switch (m.kind) {
    case 'clock-echo': {
      const b = Buffer.alloc(24);
      b[0] = KIND_CLOCK_ECHO;
      b.writeUInt32BE(m.lsr >>> 0, 4);
      b.writeDoubleBE(m.receivedMs, 8);
      b.writeDoubleBE(m.sentMs, 16);
      return b;
    }
    case 'iframe-complete': {
      const b = Buffer.alloc(8);
      b[0] = KIND_IFRAME_COMPLETE;
      b.writeUInt32BE(m.frameId >>> 0, 4);
      return b;
    }
    case 'caught-up': {
      const b = Buffer.alloc(12);
      b[0] = KIND_CAUGHT_UP;
      b.writeUInt32BE(m.frameId >>> 0, 4);
      b.writeUInt32BE(m.pictureId >>> 0, 8);
      return b;
    }
    case 'end-of-stream': {
      const b = Buffer.alloc(12);
      b[0] = KIND_END_OF_STREAM;
      b.writeUInt32BE(m.frameId >>> 0, 4);
      b.writeUInt16BE(m.lastSeq & 0xffff, 8);
      return b;
    }
    case 'settled': {
      const b = Buffer.alloc(8);
      b[0] = KIND_SETTLED;
      b[1] = m.rendered ? 1 : 0;
      b.writeUInt32BE(m.frameId >>> 0, 4);
      return b;
    }
  }
}

/** Null for messages we do not know (a newer peer); never throws on short input. */
export function decodeAppMessage(data: Buffer): AppMessage | null {
  if (data.length < 1) return null;
  switch (data[0]) {
    case KIND_CLOCK_ECHO:
    {
      if (data.length < 24) return null;
      const receivedMs = data.readDoubleBE(8);
      const sentMs = data.readDoubleBE(16);
      // Doubles on the wire: a NaN or an infinity would poison the clock-offset estimate.
      if (!Number.isFinite(receivedMs) || !Number.isFinite(sentMs)) return null;
      return { kind: 'clock-echo', lsr: data.readUInt32BE(4), receivedMs, sentMs };
    }
    case KIND_IFRAME_COMPLETE:
      if (data.length < 8) return null;
      return { kind: 'iframe-complete', frameId: data.readUInt32BE(4) };
    case KIND_CAUGHT_UP:
      if (data.length < 12) return null;
      return { kind: 'caught-up', frameId: data.readUInt32BE(4), pictureId: data.readUInt32BE(8) };
    case KIND_END_OF_STREAM:
      if (data.length < 12) return null;
      return { kind: 'end-of-stream', frameId: data.readUInt32BE(4), lastSeq: data.readUInt16BE(8) };
    case KIND_SETTLED:
      if (data.length < 8) return null;
      return { kind: 'settled', frameId: data.readUInt32BE(4), rendered: data[1] === 1 };
    default:
      return null;
  }
}
