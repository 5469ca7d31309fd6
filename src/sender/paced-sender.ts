/**
 * Encoded frames → RFC 6184 packets → one pacer shared by every stream of the transport
 * → header extensions stamped at the moment of sending (abs-send-time, transport-wide
 * sequence number) → the transport. Each stream keeps its own SSRC and sequence
 * numbers; the pacer's priorities put backup packets ahead of queued primary ones.
 */
import type { Clock, Timer } from '../clock';
import type { PacedFrameEvent } from './frame-events';
import { absSendTimeFromMs } from '../rtp/extensions';
import { packetizeH264 } from '../rtp/h264';
import { parseRtp, rtpHeaderSize, serializeRtp } from '../rtp/packet';
import { SendHistory } from './send-history';
import type { FrameIdExt, FrameRefExt, RtpPacket, StreamKind } from '../rtp/types';
import { Pacer, type PacketPriority } from './pacer';
import { RateLimiter, RETRANSMIT_WINDOW_MS } from './rate-limiter';

export interface StreamSpec {
  kind: StreamKind;
  ssrc: number;
  payloadType: number;
}

export interface StreamCounters {
  packetsSent: number;
  payloadBytesSent: number;
  /** All bytes handed to the transport (RTP header + payload), for bytes-per-stream figures. */
  bytesSent: number;
  lastPacketSentMs: number | null;
}

interface Queued {
  packet: RtpPacket;
  /** The frame the packet belongs to; null for a retransmission (the frame was reported already). */
  frame: OutgoingFrame | null;
  stream: StreamState;
}

/** A frame in the pacer: reported (onFramePaced) when its last packet left, or when the sender stops. */
interface OutgoingFrame {
  event: PacedFrameEvent;
  key: boolean;
  remaining: number;
}

interface StreamState {
  spec: StreamSpec;
  seq: number;
  counters: StreamCounters;
}

export interface PacedSenderOptions {
  clock: Clock;
  /** Timers for the pacer's and the prober's releases. */
  timer: Timer;
  /** Largest RTP packet (header + payload), bytes. */
  mtu: number;
  initialRateBps: number;
  /** Pacing rate = pacingFactor × target rate (libwebrtc's default 2.5). */
  pacingFactor?: number;
  /**
   * Hands one serialized RTP packet to the transport; may return the bytes it occupies on
   * the wire (with SRTP tag and UDP/IP headers), which is what the rate controller and the
   * sent/received rates count, as libwebrtc counts transport overhead in its estimates.
   * Without a return value the RTP packet's size is counted.
   */
  send: (packet: Buffer) => number | void;
  /** Called once per frame when its last packet left (or, `complete` false, when the sender stopped first). */
  onFramePaced: (frame: PacedFrameEvent) => void;
}

/** RTP padding per probe packet: RFC 3550 padding counts in one byte, so at most 255. */
const PROBE_PADDING_BYTES = 255;

/** Window of the sent-bitrate measurement (network.csv's sent_bps). */
const SENT_RATE_WINDOW_MS = 1000;

export class PacedSender {
  readonly pacer: Pacer<Queued>;
  private readonly streams = new Map<StreamKind, StreamState>();
  private readonly inPacer = new Set<OutgoingFrame>();
  private readonly timers: Timer;
  private timer: unknown = null;
  private timerAt = Infinity;
  private transportSeq = 0;
  private stopped = false;
  /** What was sent, for retransmissions and for mapping transport-wide feedback. */
  readonly history = new SendHistory();
  private readonly sentWindow: { t: number; bytes: number }[] = [];
  private sentWindowBytes = 0;
  retransmissionsSent = 0;
  /** Bytes of the retransmissions sent (serialized RTP packets). */
  retransmissionBytesSent = 0;
  /**
   * NACKed packets not resent because of the retransmission rate limit: the one the
   * limiter refused and the rest of its NACK, which is then given up (libwebrtc's rule).
   */
  retransmissionsRateLimited = 0;
  /**
   * Retransmissions may use at most the target rate over 500 ms (libwebrtc's
   * retransmission_rate_limiter_ in RtpTransportControllerSend): without it, NACKs from an
   * overflowing link queue add retransmissions on top of the overload.
   */
  readonly retransmissionLimiter: RateLimiter;
  /** Every packet as it leaves, media, retransmission or probe (the rate controller's OnSentPacket). */
  onPacketSent: ((p: { transportSeq: number; sendTimeMs: number; sizeBytes: number }) => void) | null = null;
  /** Packets dropped unsent by key-frame flushing. */
  packetsFlushed = 0;
  /** Padding bytes sent in probe clusters (the media a cluster carries is counted as media). */
  probePaddingBytesSent = 0;
  /** RTP timestamp of the last media packet: padding carries it (RFC 3550 leaves it to us; libwebrtc does this). */
  private lastTimestamp = 0;

  constructor(private readonly o: PacedSenderOptions) {
    this.pacer = new Pacer<Queued>(o.initialRateBps, { pacingFactor: o.pacingFactor });
    this.timers = o.timer;
    this.retransmissionLimiter = new RateLimiter(RETRANSMIT_WINDOW_MS, o.initialRateBps);
  }

  addStream(spec: StreamSpec): void {
    this.streams.set(spec.kind, {
      spec,
      seq: Math.floor(Math.random() * 0x10000),
      counters: { packetsSent: 0, payloadBytesSent: 0, bytesSent: 0, lastPacketSentMs: null },
    });
  }

  /** The streams added, in the order they were (primary first). */
  get kinds(): StreamKind[] {
    return [...this.streams.keys()];
  }

  counters(kind: StreamKind): StreamCounters {
    return this.stream(kind).counters;
  }

  ssrcOf(kind: StreamKind): number {
    return this.stream(kind).spec.ssrc;
  }

  /** The sequence number of the stream's newest packet so far (media or probe). */
  lastSequenceNumber(kind: StreamKind): number {
    return (this.stream(kind).seq - 1) & 0xffff;
  }

  /** The target rate: the pacer paces at a multiple of it; retransmissions may use up to it. */
  setTargetRate(bps: number): void {
    this.pacer.setTargetRate(bps, this.o.clock.now());
    this.retransmissionLimiter.setMaxRate(bps);
  }

  /**
   * Packetizes one access unit and queues its packets; the frame is reported through
   * onFramePaced after its last packet left.
   */
  enqueueFrame(kind: StreamKind, au: Buffer, frame: FrameIdExt, rtpTimestamp: number, frameRef?: FrameRefExt): void {
    if (this.stopped) return;
    const st = this.stream(kind);
    const now = this.o.clock.now();
    const headerExt = { absSendTime: 0, transportWideSeq: 0, frameId: frame, frameRef };
    const headerBytes = rtpHeaderSize(headerExt);
    const payloads = packetizeH264(au, this.o.mtu - headerBytes);
    const out: OutgoingFrame = {
      event: { kind: 'paced', frameId: frame.frameId, stream: kind, packets: payloads.length, enqueueMs: now, firstSentMs: null, lastSentMs: null, complete: false, unsent: null },
      key: frame.key,
      remaining: payloads.length,
    };
    this.inPacer.add(out);
    const priority: PacketPriority = kind === 'backup' ? 'backup' : 'video';
    payloads.forEach((payload, i) => {
      const last = i === payloads.length - 1;
      const packet: RtpPacket = {
        payloadType: st.spec.payloadType,
        sequenceNumber: st.seq,
        timestamp: rtpTimestamp,
        ssrc: st.spec.ssrc,
        marker: last,
        extensions: { frameId: { ...frame, start: i === 0, end: last }, frameRef },
        payload,
      };
      st.seq = (st.seq + 1) & 0xffff;
      this.pacer.enqueue({ packet, frame: out, stream: st }, payload.length + headerBytes, priority, now);
    });
    this.pump();
  }

  /** Sends what the pacer releases now and re-arms the timer for its next release. */
  private pump(): void {
    if (this.stopped) return;
    for (const q of this.pacer.process(this.o.clock.now())) this.sendNow(q);
    const next = this.pacer.nextProcessTimeMs(this.o.clock.now());
    if (next === null) return;
    if (this.timer !== null && next >= this.timerAt) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, next - this.o.clock.now()));
  }

  /** Sends a packet the pacer released (or a probe cluster took); returns the bytes on the wire. */
  private sendNow({ packet, frame, stream }: Queued, probeClusterId?: number): number {
    const now = this.o.clock.now();
    packet.extensions.absSendTime = absSendTimeFromMs(now);
    const transportSeq = (this.transportSeq = (this.transportSeq + 1) & 0xffff);
    packet.extensions.transportWideSeq = transportSeq;
    const bytes = serializeRtp(packet);
    const wire = this.transmit(bytes);
    this.lastTimestamp = packet.timestamp;
    const c = stream.counters;
    c.packetsSent++;
    c.payloadBytesSent += packet.payload.length;
    c.bytesSent += bytes.length;
    c.lastPacketSentMs = now;
    this.countSent(now, wire);
    this.onPacketSent?.({ transportSeq, sendTimeMs: now, sizeBytes: wire });
    if (!frame) {
      this.history.onRetransmissionSent(packet.ssrc, packet.sequenceNumber, now, transportSeq, wire, probeClusterId);
      this.retransmissionsSent++;
      this.retransmissionBytesSent += bytes.length;
      return wire;
    }
    this.history.onPacketSent({ ssrc: packet.ssrc, seq: packet.sequenceNumber, transportSeq, sendTimeMs: now, sizeBytes: wire, payload: bytes, probeClusterId });
    frame.event.firstSentMs ??= now;
    frame.event.lastSentMs = now;
    if (--frame.remaining === 0) {
      this.inPacer.delete(frame);
      frame.event.complete = true;
      this.o.onFramePaced(frame.event);
    }
    return wire;
  }

  /** Sends through the transport; returns the bytes counted on the wire. */
  private transmit(bytes: Buffer): number {
    const wire = this.o.send(bytes);
    return typeof wire === 'number' ? wire : bytes.length;
  }

  /**
   * A NACK: resend the listed packets of `ssrc` at the highest pacer priority (plain
   * resend of the same RTP packet with fresh send-time extensions; RFC 4588 RTX would
   * need its own SSRC and payload type in the SDP). Packets resent less than one RTT ago,
   * still waiting in the pacer, or no longer in the history, are skipped. A packet the
   * retransmission rate limiter refuses ends the NACK: it and the rest are given up
   * (RTPSender::OnReceivedNack stops at the first ReSendPacket that fails); the receiver
   * asks again after an RTT. Returns how many were queued.
   */
  retransmit(ssrc: number, seqs: number[], rttMs: number): number {
    if (this.stopped) return 0;
    const st = [...this.streams.values()].find((s) => s.spec.ssrc === ssrc);
    if (!st) return 0;
    const now = this.o.clock.now();
    let n = 0;
    for (let i = 0; i < seqs.length; i++) {
      let refused = false;
      const stored = this.history.forRetransmission(ssrc, seqs[i], now, rttMs, (p) => {
        refused = !this.retransmissionLimiter.tryUseRate(p.payload.length, now);
        return !refused;
      });
      if (refused) {
        this.retransmissionsRateLimited += seqs.length - i;
        break;
      }
      if (!stored) continue;
      const packet = parseRtp(stored.payload);
      this.pacer.enqueue({ packet, frame: null, stream: st }, stored.payload.length, 'retransmission', now);
      n++;
    }
    if (n) this.pump();
    return n;
  }

  /**
   * Sends one bandwidth probe cluster (libwebrtc's probing) at the cluster's target rate,
   * released in 1 ms steps until it has sent its minimum bytes and packets. As libwebrtc's
   * PacingController does while a cluster is active, the cluster carries the media waiting
   * in the pacer (at the probe rate, charged to the media budget) and pads only when the
   * queue is empty (padding-only RTP packets on the primary SSRC). Every packet sent is
   * tagged with the cluster id in the send history, so transport feedback measures the
   * whole cluster: a cluster of padding alone on top of media would measure only the
   * padding's share of a loaded bottleneck and read low.
   */
  sendProbeCluster(cluster: { id: number; targetBps: number; minPackets: number; minBytes: number }): void {
    if (this.stopped) return;
    const st = this.stream('primary');
    const start = this.o.clock.now();
    let bytes = 0;
    let packets = 0;
    const done = () => bytes >= cluster.minBytes && packets >= cluster.minPackets;
    const tick = () => {
      if (this.stopped) return;
      // Due: the cluster's rate over the time elapsed, one packet at once at the start.
      const dueBytes = ((this.o.clock.now() - start) * cluster.targetBps) / 8000;
      while (!done() && (packets === 0 || bytes < dueBytes)) {
        const media = this.pacer.takeForProbe(this.o.clock.now());
        bytes += media ? this.sendNow(media, cluster.id) : this.sendPadding(st, cluster.id);
        packets++;
      }
      if (!done()) this.timers.setTimeout(tick, 1);
      else this.pump();
    };
    tick();
  }

  /** Returns the bytes on the wire. */
  private sendPadding(st: StreamState, clusterId: number): number {
    const now = this.o.clock.now();
    const transportSeq = (this.transportSeq = (this.transportSeq + 1) & 0xffff);
    const packet: RtpPacket = {
      payloadType: st.spec.payloadType,
      sequenceNumber: st.seq,
      timestamp: this.lastTimestamp,
      ssrc: st.spec.ssrc,
      marker: false,
      extensions: { absSendTime: absSendTimeFromMs(now), transportWideSeq: transportSeq },
      payload: Buffer.alloc(0),
    };
    st.seq = (st.seq + 1) & 0xffff;
    const bytes = serializeRtp(packet, { paddingBytes: PROBE_PADDING_BYTES });
    const wire = this.transmit(bytes);
    this.countSent(now, wire);
    this.probePaddingBytesSent += bytes.length;
    this.history.onProbeSent(st.spec.ssrc, packet.sequenceNumber, transportSeq, now, wire, clusterId);
    this.onPacketSent?.({ transportSeq, sendTimeMs: now, sizeBytes: wire });
    return wire;
  }

  /** Bytes sent over the last second, as bit/s. */
  sentBitrateBps(nowMs: number): number {
    this.countSent(nowMs, 0);
    return (this.sentWindowBytes * 8 * 1000) / SENT_RATE_WINDOW_MS;
  }

  private countSent(now: number, bytes: number): void {
    if (bytes > 0) {
      this.sentWindow.push({ t: now, bytes });
      this.sentWindowBytes += bytes;
    }
    while (this.sentWindow.length && this.sentWindow[0].t <= now - SENT_RATE_WINDOW_MS) {
      this.sentWindowBytes -= this.sentWindow.shift()!.bytes;
    }
  }

  /** Resolves when the queue is empty (true) or `timeoutMs` passed (false). */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.o.clock.now() + timeoutMs;
    while (this.pacer.queuedPackets > 0 && this.o.clock.now() < deadline) {
      await new Promise((r) => this.timers.setTimeout(() => r(undefined), 5));
    }
    return this.pacer.queuedPackets === 0;
  }

  /** Stops sending; frames still queued are reported (complete: false) so none is lost. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    for (const f of this.inPacer) this.o.onFramePaced({ ...f.event, unsent: 'stopped' });
    this.inPacer.clear();
  }

  /**
   * libwebrtc's key-frame flushing (PacingController::EnqueuePacket with keyframe_flushing_):
   * before the first packet of a key frame of `kind` is queued, every queued packet of that
   * stream (media and retransmissions) is dropped, so the key frame is not stuck behind
   * pictures the receiver can no longer use — unless key-frame packets are queued already.
   * Frames that lose packets are reported (complete: false, flushed). Returns the packets dropped.
   */
  flushStream(kind: StreamKind): number {
    const st = this.stream(kind);
    const queued = (q: Queued) => q.stream === st;
    let keyQueued = false;
    for (const f of this.inPacer) if (f.event.stream === kind && f.key && f.remaining > 0) keyQueued = true;
    if (keyQueued) return 0;
    const removed = this.pacer.remove(queued, this.o.clock.now());
    for (const q of removed) {
      if (!q.frame || !this.inPacer.delete(q.frame)) continue;
      this.o.onFramePaced({ ...q.frame.event, unsent: 'flushed' });
    }
    this.packetsFlushed += removed.length;
    return removed.length;
  }

  private stream(kind: StreamKind): StreamState {
    const st = this.streams.get(kind);
    if (!st) throw new Error(`no ${kind} stream`);
    return st;
  }
}
