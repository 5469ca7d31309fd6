/**
 * The receiver's session around the video path: RTP in (parsed, counted per SSRC for
 * receiver reports, tapped for transport-wide feedback and NACK, optionally dropped by the
 * loss injector) → the `VideoReceiver`; RTCP out on timers (TWCC when due and NACKs every
 * 20 ms as libwebrtc's NackRequester ticks, an RR every second), PLI with libwebrtc's
 * throttle, the I-frame-complete feedback, clock echoes of SRs; the end of the run (RTCP
 * BYE) and the peer's liveness. On an injected clock and timer and a `PacketTransport`.
 */
import { repeat, type Clock, type Timer } from '../clock';
import type { ReceiverEventRow } from '../metrics/rows';
import { APP_IDENTIFIER, decodeAppMessage, encodeAppMessage } from '../rtp/app-feedback';
import { parseRtp } from '../rtp/packet';
import { ntpMiddle32, tryParseRtcpCompound, serializeRtcpCompound } from '../rtp/rtcp';
import type { ReportBlock, RtcpPacket, RtpPacket, StreamKind } from '../rtp/types';
import type { PacketTransport } from '../transport/packet-transport';
import type { LossInjector } from './loss-injector';
import { NackGenerator } from './nack-generator';
import { ReceiveStatistics } from './receive-statistics';
import { TwccRecorder } from './twcc-recorder';

export const RTCP_INTERVAL_MS = 1000;
/** How often transport feedback (TWCC when due, NACKs) is considered; NackRequester's 20 ms tick. */
export const FEEDBACK_TICK_MS = 20;
/** At most one PLI per this interval (libwebrtc re-requests key frames every 200 ms while waiting). */
export const MIN_PLI_INTERVAL_MS = 100;
const WATCHDOG_MS = 250;
/** Settled pictures remembered for the end-of-stream answer (a few seconds of video). */
const SETTLED_MEMORY = 256;

/** What the session feeds: the frame path (VideoReceiver). */
export interface MediaSink {
  onPacket(p: RtpPacket, stream: StreamKind, arrivalMs: number): void;
}

export interface ReceiveSessionOptions {
  clock: Clock;
  timer: Timer;
  transport: PacketTransport;
  /** Which stream each media SSRC carries (primary first). */
  streams: Map<number, StreamKind>;
  /** Our SSRC in RTCP (RFC 3550 §8.1: random). */
  receiverSsrc: number;
  /** Send the episode feedback (off only to study the sender's timeout path). */
  iframeFeedback: boolean;
  lossInjector?: LossInjector;
  /** Declare the peer gone after this long without media (before the first packet: `firstPacketTimeoutMs`). */
  peerTimeoutMs: number;
  firstPacketTimeoutMs: number;
  /** The sender said goodbye (RTCP BYE). */
  onBye: () => void;
  onPeerGone: (reason: string) => void;
  /** Episode feedback was sent (for receiver-events.csv). */
  onFeedbackSent?: (row: ReceiverEventRow) => void;
  log?: (msg: string) => void;
}

export class ReceiveSession {
  readonly stats = new Map<number, ReceiveStatistics>();
  private readonly twcc = new TwccRecorder();
  private readonly nacks: Map<number, NackGenerator>;
  private readonly primarySsrc: number;
  private readonly stops: (() => void)[] = [];
  private readonly startedMs: number;
  private lastPliMs = -Infinity;
  private sink: MediaSink | null = null;
  /** Recently settled pictures → rendered (from any stream), for the end-of-stream answer. */
  private readonly settled = new Map<number, boolean>();
  /** The last picture the sender announced, once it did. */
  private endOfStream: number | null = null;
  packetsReceived = 0;
  malformedPackets = 0;
  lastPacketMs: number | null = null;

  constructor(private readonly o: ReceiveSessionOptions) {
    this.primarySsrc = [...o.streams.keys()][0];
    // A primary NACK list that overflowed was cleared: as NackRequester, ask for a key frame.
    this.nacks = new Map(
      [...o.streams.keys()].map((ssrc) => [
        ssrc,
        new NackGenerator({ onKeyFrameRequest: ssrc === this.primarySsrc ? () => this.requestKeyFrame('NACK list overflowed') : undefined }),
      ]),
    );
    this.startedMs = o.clock.now();
    o.transport.onRtp = (buf, arrivalMs) => this.onRtp(buf, arrivalMs);
    o.transport.onRtcp = (buf, arrivalMs) => this.onRtcp(buf, arrivalMs);
  }

  /** Starts feeding `sink` and the RTCP timers. */
  start(sink: MediaSink): void {
    this.sink = sink;
    const { timer, clock } = this.o;
    this.stops.push(repeat(timer, FEEDBACK_TICK_MS, () => this.sendTransportFeedback()));
    this.stops.push(repeat(timer, RTCP_INTERVAL_MS, () => this.sendRr()));
    this.stops.push(
      repeat(timer, WATCHDOG_MS, () => {
        const first = this.lastPacketMs === null;
        const limit = first ? this.o.firstPacketTimeoutMs : this.o.peerTimeoutMs;
        if (clock.now() - (this.lastPacketMs ?? this.startedMs) > limit) {
          this.o.onPeerGone(`the peer disappeared (no media for ${Math.round(limit / 1000)} s)`);
        }
      }),
    );
    // At once, before any media: the sender waits for word from us before its first picture.
    this.sendRr();
  }

  /**
   * A frame settled (VideoReceiver's onFrameSettled): `rendered` when its picture was shown,
   * from either stream. Answers the sender's end-of-stream message once the last picture
   * has settled.
   */
  onFrameSettled(frameId: number, rendered: boolean): void {
    this.settled.set(frameId, (this.settled.get(frameId) ?? false) || rendered);
    if (this.settled.size > SETTLED_MEMORY) this.settled.delete(this.settled.keys().next().value as number);
    this.answerEndOfStream();
  }

  private answerEndOfStream(): void {
    const n = this.endOfStream;
    if (n === null || !this.settled.has(n)) return;
    const data = encodeAppMessage({ kind: 'settled', frameId: n, rendered: this.settled.get(n)! });
    this.send([{ type: 'app-feedback', senderSsrc: this.o.receiverSsrc, mediaSsrc: this.primarySsrc, identifier: APP_IDENTIFIER, data }]);
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  /** Asks the sender for a key frame (PLI on the primary stream), at most once per MIN_PLI_INTERVAL_MS. */
  requestKeyFrame(reason: string): void {
    const now = this.o.clock.now();
    if (now - this.lastPliMs < MIN_PLI_INTERVAL_MS) return;
    this.lastPliMs = now;
    this.send([{ type: 'pli', senderSsrc: this.o.receiverSsrc, mediaSsrc: this.primarySsrc }]);
    this.o.log?.(`PLI: ${reason}`);
  }

  /**
   * Dual mode: feedback on the backup episode of I-frame `frameId` (PSFB FMT 15, our 'TBED'
   * message), sent at once: the sender ends the episode on the kind its end rule names.
   */
  episodeFeedback(feedback: 'iframe-complete' | 'caught-up', frameId: number, pictureId: number): void {
    if (!this.o.iframeFeedback) return;
    const data = encodeAppMessage(feedback === 'iframe-complete' ? { kind: feedback, frameId } : { kind: feedback, frameId, pictureId });
    this.send([{ type: 'app-feedback', senderSsrc: this.o.receiverSsrc, mediaSsrc: this.primarySsrc, identifier: APP_IDENTIFIER, data }]);
    const detail = feedback === 'iframe-complete' ? 'I-frame complete' : `caught up at picture ${pictureId}`;
    this.o.onFeedbackSent?.({ time_ms: this.o.clock.now(), event: 'feedback-sent', stream: 'primary', frame_id: frameId, detail });
  }

  private send(packets: RtcpPacket[]): void {
    this.o.transport.sendRtcp(serializeRtcpCompound(packets));
  }

  private onRtp(buf: Buffer, arrivalMs: number): void {
    let pkt: RtpPacket;
    try {
      pkt = parseRtp(buf);
    } catch {
      this.malformedPackets++;
      return;
    }
    const stream = this.o.streams.get(pkt.ssrc);
    if (!stream) {
      this.malformedPackets++;
      return;
    }
    if (this.o.lossInjector?.shouldDrop(pkt, stream)) return;
    if (pkt.extensions.transportWideSeq !== undefined) this.twcc.onPacket(pkt.extensions.transportWideSeq, arrivalMs);
    this.nacks.get(pkt.ssrc)?.onPacket(pkt.sequenceNumber, arrivalMs, false, pkt.extensions.frameId?.key ?? false);
    this.packetsReceived++;
    this.lastPacketMs = arrivalMs;
    let st = this.stats.get(pkt.ssrc);
    if (!st) this.stats.set(pkt.ssrc, (st = new ReceiveStatistics(pkt.ssrc)));
    st.onPacket(pkt.sequenceNumber, pkt.timestamp, arrivalMs);
    this.sink?.onPacket(pkt, stream, arrivalMs);
  }

  private onRtcp(buf: Buffer, arrivalMs: number): void {
    const packets = tryParseRtcpCompound(buf);
    if (!packets) return;
    for (const p of packets) {
      if (this.o.lossInjector?.shouldDropRtcp(p)) continue;
      if (p.type === 'sr') {
        const lsr = ntpMiddle32({ sec: p.ntpSec, frac: p.ntpFrac });
        this.stats.get(p.ssrc)?.onSenderReport(lsr, arrivalMs);
        // Echo at once so the sender can estimate the offset between our clocks.
        const data = encodeAppMessage({ kind: 'clock-echo', lsr, receivedMs: arrivalMs, sentMs: this.o.clock.now() });
        this.send([{ type: 'app-feedback', senderSsrc: this.o.receiverSsrc, mediaSsrc: p.ssrc, identifier: APP_IDENTIFIER, data }]);
      } else if (p.type === 'app-feedback' && p.identifier === APP_IDENTIFIER) {
        const m = decodeAppMessage(p.data);
        if (m?.kind === 'end-of-stream') {
          this.endOfStream = m.frameId;
          // Packets up to the sender's last are due: a lost tail goes on the NACK list.
          this.nacks.get(this.primarySsrc)?.expectUpTo(m.lastSeq, arrivalMs);
          this.answerEndOfStream();
        }
      } else if (p.type === 'bye') {
        this.o.onBye();
      }
    }
  }

  private sendTransportFeedback(): void {
    const now = this.o.clock.now();
    const out: RtcpPacket[] = [];
    if (this.twcc.isFeedbackDue(now)) out.push(...this.twcc.buildFeedback(now, this.o.receiverSsrc, this.primarySsrc));
    for (const [ssrc, gen] of this.nacks) {
      const seqs = gen.nacksToSend(now);
      if (seqs.length) out.push({ type: 'nack', senderSsrc: this.o.receiverSsrc, mediaSsrc: ssrc, seqs });
    }
    if (out.length) this.send(out);
  }

  private sendRr(): void {
    const now = this.o.clock.now();
    const reports = [...this.stats.values()].map((s) => s.reportBlock(now)).filter((b): b is ReportBlock => b !== null);
    this.send([{ type: 'rr', ssrc: this.o.receiverSsrc, reports }]);
  }
}
