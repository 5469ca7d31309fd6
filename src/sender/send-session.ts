/**
 * The sender's session around the video path, as libwebrtc's RtpTransportControllerSend
 * and RTCPReceiver split it: RTCP out (SR every second) and in (RR → RTT and loss, TWCC →
 * the rate controller, NACK → retransmission, PLI → key frame, our application feedback →
 * I-frame complete and clock echoes, BYE → the peer left), the rate-control loop (the
 * controller's estimate applied every 100 ms, one network.csv row each) and the peer's
 * liveness. Time comes from the injected clock and timer, packets go through a
 * `PacketTransport`, so the session runs the same over werift and over a simulated link.
 */
import { repeat, type Clock, type Timer } from '../clock';
import type { ClockRelation, NetworkRow } from '../metrics/rows';
import { APP_IDENTIFIER, decodeAppMessage, encodeAppMessage } from '../rtp/app-feedback';
import { ntpFromMs, ntpMiddle32, tryParseRtcpCompound, rttFromReportBlock, serializeRtcpCompound } from '../rtp/rtcp';
import type { RtcpPacket } from '../rtp/types';
import { ClockSync } from '../transport/clock-sync';
import type { PacketTransport } from '../transport/packet-transport';
import type { RateController } from './congestion/types';
import { DeliveryRate } from './delivery-rate';
import type { VideoSender } from './video-sender';

/** How often the rate controller's estimate is applied and network.csv gets a row. */
export const RATE_UPDATE_MS = 100;
/** RTCP report interval (RFC 3550 allows shorter than 5 s for high-bandwidth sessions). */
export const RTCP_INTERVAL_MS = 1000;
/** How often the peer's liveness is checked. */
const WATCHDOG_MS = 250;
/**
 * The link is taken as down (an outage: no backup episode starts or continues) when no
 * transport-wide feedback came for this long, or 3 RTTs if longer. Our receiver sends
 * feedback every 20 ms while packets arrive (libwebrtc's every 50–250 ms), and the sender
 * sends at least 30 pictures a second, so a silence of 300 ms is the link, not the cadence.
 */
export const OUTAGE_FEEDBACK_GAP_MS = 300;

/** The end-of-stream message is repeated this often until the receiver answers. */
export const END_OF_STREAM_REPEAT_MS = 100;

/** What the receiver said about the last picture: `reported` false when it said nothing in time. */
export interface LastPicture {
  reported: boolean;
  rendered: boolean;
}

/**
 * How long the sender waits for the receiver's word on the last picture: enough NACK
 * rounds to repair it (libwebrtc's NackRequester retries up to 10 times, an RTT apart),
 * at least 1 s, at most 5 s.
 */
export function endOfStreamTimeoutMs(rttMs: number | null): number {
  return Math.min(5000, Math.max(1000, 10 * (rttMs ?? 100)));
}

export interface SendSessionOptions {
  clock: Clock;
  timer: Timer;
  transport: PacketTransport;
  sender: VideoSender;
  controller: RateController;
  /** Declare the peer gone after this long without RTCP. */
  peerTimeoutMs: number;
  /** Wall-clock ms at clock time 0 (for the NTP time in SRs). */
  wallAtZeroMs: number;
  onNetworkRow?: (row: NetworkRow) => void;
  /** After each rate update (diagnostics observers such as the GCC debug trace). */
  onRateUpdate?: (nowMs: number, controller: RateController) => void;
  /** The session cannot go on: the peer left or vanished. */
  onPeerGone: (reason: string) => void;
  log?: (msg: string) => void;
}

export class SendSession {
  private readonly clockSync = new ClockSync();
  private readonly delivery = new DeliveryRate();
  private readonly stops: (() => void)[] = [];
  private lastRtcpMs: number;
  private lossFraction: number | null = null;
  /** Arrival of the last transport-wide feedback (null before the first). */
  private lastTwccMs: number | null = null;
  /** Resolves on the first RTCP from the receiver. */
  private readonly receiverHeard: Promise<void>;
  private onReceiverHeard!: () => void;
  private endOfStream: { frameId: number; resolve: (r: LastPicture) => void } | null = null;
  lastRttMs: number | null = null;
  /** How the end-of-stream handshake went (null until it ran). */
  lastPicture: (LastPicture & { frameId: number; waitedMs: number }) | null = null;

  constructor(private readonly o: SendSessionOptions) {
    this.lastRtcpMs = o.clock.now();
    o.sender.setLinkDown(() => this.outage());
    this.receiverHeard = new Promise((resolve) => (this.onReceiverHeard = resolve));
    o.sender.paced.onPacketSent = (p) => o.controller.onSentPacket?.(p);
    o.transport.onRtcp = (buf, arrivalMs) => this.onRtcp(buf, arrivalMs);
  }

  /** Starts the timers: SR, rate loop, liveness. */
  start(): void {
    const { timer } = this.o;
    this.stops.push(repeat(timer, RATE_UPDATE_MS, () => this.updateRate()));
    this.stops.push(repeat(timer, RTCP_INTERVAL_MS, () => this.sendSr()));
    this.stops.push(
      repeat(timer, WATCHDOG_MS, () => {
        const quiet = this.o.clock.now() - this.lastRtcpMs;
        if (quiet > this.o.peerTimeoutMs) this.o.onPeerGone(`the peer disappeared (no RTCP for ${this.o.peerTimeoutMs / 1000} s)`);
      }),
    );
    this.sendSr();
  }

  /**
   * Waits until any RTCP came from the receiver (it sends a receiver report as soon as its
   * session runs, before any media), `abort` settles, or `timeoutMs` passes: media sent
   * earlier would meet a receiver not yet listening, and a one-picture clip would lose its
   * only picture. A receiver that never reports is logged, not fatal (the liveness check
   * decides).
   */
  async waitForReceiver(timeoutMs: number, abort: Promise<unknown>): Promise<void> {
    let handle: unknown = null;
    const timedOut = new Promise<boolean>((resolve) => (handle = this.o.timer.setTimeout(() => resolve(false), timeoutMs)));
    const ok = await Promise.race([this.receiverHeard.then(() => true), abort.then(() => true), timedOut]);
    this.o.timer.clearTimeout(handle);
    if (!ok) this.o.log?.(`no RTCP from the receiver within ${timeoutMs / 1000} s: streaming anyway`);
  }

  /**
   * The end of the stream: tells the receiver which picture was the last (repeated every
   * END_OF_STREAM_REPEAT_MS, RTCP being unreliable) and waits until it reports that picture
   * settled — rendered, or given up — so a last picture still being repaired by NACK is
   * not cut off by the BYE. Bounded by `timeoutMs`; the outcome is kept in `lastPicture`.
   */
  async awaitLastPicture(frameId: number, timeoutMs: number): Promise<LastPicture> {
    const startMs = this.o.clock.now();
    const result = await new Promise<LastPicture>((resolve) => {
      const stopRepeat = repeat(this.o.timer, END_OF_STREAM_REPEAT_MS, () => this.sendEndOfStream(frameId));
      const handle = this.o.timer.setTimeout(() => done({ reported: false, rendered: false }), timeoutMs);
      const done = (r: LastPicture) => {
        stopRepeat();
        this.o.timer.clearTimeout(handle);
        this.endOfStream = null;
        resolve(r);
      };
      this.endOfStream = { frameId, resolve: done };
      this.sendEndOfStream(frameId);
    });
    this.lastPicture = { ...result, frameId, waitedMs: this.o.clock.now() - startMs };
    return result;
  }

  /**
   * After the last picture left the pacer: the end-of-stream handshake on the sender's last
   * picture, bounded by endOfStreamTimeoutMs (or cut short by `abort`), its outcome logged.
   */
  async endStream(abort: Promise<unknown>): Promise<void> {
    const last = this.o.sender.lastFrameId;
    if (last === null) return;
    await Promise.race([this.awaitLastPicture(last, endOfStreamTimeoutMs(this.lastRttMs)), abort]);
    const lp = this.lastPicture;
    const how = lp === null ? 'stopped while waiting' : `${lp.reported ? (lp.rendered ? 'rendered' : 'given up') : 'no word from the receiver'} after ${Math.round(lp.waitedMs)} ms`;
    this.o.log?.(`last picture ${last}: ${how}`);
  }

  /** Why the link cannot carry a backup now (no transport feedback for a while, once some came), or null. */
  private outage(): string | null {
    if (this.lastTwccMs === null) return null;
    const quietMs = this.o.clock.now() - this.lastTwccMs;
    const limitMs = Math.max(OUTAGE_FEEDBACK_GAP_MS, 3 * (this.lastRttMs ?? 0));
    return quietMs > limitMs ? `no transport feedback for ${Math.round(quietMs)} ms (outage)` : null;
  }

  private sendEndOfStream(frameId: number): void {
    const paced = this.o.sender.paced;
    const ssrc = paced.ssrcOf('primary');
    const data = encodeAppMessage({ kind: 'end-of-stream', frameId, lastSeq: paced.lastSequenceNumber('primary') });
    this.o.transport.sendRtcp(serializeRtcpCompound([{ type: 'app-feedback', senderSsrc: ssrc, mediaSsrc: ssrc, identifier: APP_IDENTIFIER, data }]));
  }

  /** Stops the timers, the rate controller and the sender (frames still queued are reported). */
  stop(): void {
    for (const s of this.stops.splice(0)) s();
    this.o.controller.close?.();
    this.o.sender.stop();
  }

  /** RTCP BYE (RFC 3550 §6.6) for every stream, sent a few times: it is our end-of-stream marker. */
  sendBye(): void {
    const paced = this.o.sender.paced;
    const bye = serializeRtcpCompound([{ type: 'bye', ssrcs: paced.kinds.map((k) => paced.ssrcOf(k)), reason: 'end of stream' }]);
    for (let i = 0; i < 3; i++) this.o.transport.sendRtcp(bye);
  }

  /** The run's send-side counters (sender-meta.json). */
  counters(): Record<string, number> {
    const { sender } = this.o;
    const paced = sender.paced;
    return {
      frames_encoded: sender.framesEncoded,
      frames_dropped: sender.framesDropped,
      encoder_busy_drops: sender.encoderBusyDrops,
      retransmissions_sent: paced.retransmissionsSent,
      retransmission_bytes_sent: paced.retransmissionBytesSent,
      retransmissions_rate_limited: paced.retransmissionsRateLimited,
      probe_padding_bytes_sent: paced.probePaddingBytesSent,
      packets_flushed: paced.packetsFlushed,
      ...Object.fromEntries(
        paced.kinds.flatMap((k) => [
          [`${k}_packets_sent`, paced.counters(k).packetsSent],
          [`${k}_bytes_sent`, paced.counters(k).bytesSent],
        ]),
      ),
      last_rtt_ms: this.lastRttMs ?? -1,
      ...(this.lastPicture
        ? { last_picture_reported: this.lastPicture.reported ? 1 : 0, last_picture_rendered: this.lastPicture.rendered ? 1 : 0, end_of_stream_wait_ms: Math.round(this.lastPicture.waitedMs) }
        : {}),
    };
  }

  /** The receiver's clock relative to ours, from SR → clock-echo round trips. */
  clockRelation(): ClockRelation {
    return this.clockSync.relation();
  }

  /** Probe clusters the controller asks for (GCC's ProbeController) go out through the pacer. */
  private sendProbes(now: number): void {
    for (const c of this.o.controller.takeProbeClusters?.(now) ?? []) {
      this.o.sender.paced.sendProbeCluster(c);
      this.o.log?.(`probe cluster ${c.id} at ${Math.round(c.targetBps / 1000)} kbit/s`);
    }
  }

  /** Applies the controller's estimate and logs it (network.csv). */
  private updateRate(): void {
    const { clock, sender, controller: ctl } = this.o;
    const now = clock.now();
    this.sendProbes(now);
    const paced = sender.paced;
    ctl.onSenderState?.({ sentBps: paced.sentBitrateBps(now), pacerQueueMs: paced.pacer.expectedQueueTimeMs() }, now);
    const { targetBps } = ctl.estimate(now);
    if (ctl.adaptive && Math.abs(targetBps - sender.targetRateBps) >= 1) sender.setTargetRate(targetBps);
    this.o.onRateUpdate?.(now, ctl);
    const d = ctl.diagnostics?.(now);
    const received = this.delivery.bps();
    this.o.onNetworkRow?.({
      time_ms: now,
      controller: ctl.name,
      target_bps: Math.round(targetBps),
      pacing_bps: Math.round(paced.pacer.pacingRateBps),
      sent_bps: Math.round(paced.sentBitrateBps(now)),
      received_bps: received === null ? '' : Math.round(received),
      rtt_ms: this.lastRttMs ?? '',
      loss_fraction: this.lossFraction ?? '',
      delay_gradient: d?.delayGradient ?? '',
      threshold: d?.threshold ?? '',
      detector: d?.detector ?? '',
    });
  }

  private sendSr(): void {
    const { clock, sender, transport } = this.o;
    const now = clock.now();
    const ntp = ntpFromMs(this.o.wallAtZeroMs + now);
    this.clockSync.srSent(ntpMiddle32(ntp), now);
    const reports: RtcpPacket[] = sender.paced.kinds.map((k) => ({
      type: 'sr' as const,
      ssrc: sender.paced.ssrcOf(k),
      ntpSec: ntp.sec,
      ntpFrac: ntp.frac,
      rtpTimestamp: sender.rtpTimestampAt(now),
      packetCount: sender.paced.counters(k).packetsSent,
      octetCount: sender.paced.counters(k).payloadBytesSent,
      reports: [],
    }));
    transport.sendRtcp(serializeRtcpCompound(reports));
  }

  private onRtcp(buf: Buffer, arrivalMs: number): void {
    const packets = tryParseRtcpCompound(buf);
    if (!packets) return;
    this.onReceiverHeard(); // a no-op after the first
    this.lastRtcpMs = arrivalMs;
    const { sender, controller: ctl } = this.o;
    const primarySsrc = sender.paced.ssrcOf('primary');
    for (const p of packets) {
      if (p.type === 'rr') {
        for (const rb of p.reports) {
          if (rb.lsr !== 0) {
            const rtt = rttFromReportBlock(ntpMiddle32(ntpFromMs(this.o.wallAtZeroMs + arrivalMs)), rb.lsr, rb.dlsr);
            if (rtt !== null) {
              this.lastRttMs = rtt;
              ctl.onRtt(rtt, arrivalMs);
            }
          }
          if (rb.ssrc === primarySsrc) {
            this.lossFraction = rb.fractionLost / 256;
            ctl.onLossReport(this.lossFraction, arrivalMs);
          }
        }
      } else if (p.type === 'twcc') {
        this.lastTwccMs = arrivalMs;
        const results = sender.paced.history.onTransportFeedback(p);
        if (results.length) {
          this.delivery.onFeedback(results);
          ctl.onTransportFeedback({ feedbackArrivalMs: arrivalMs, packets: results });
          this.sendProbes(arrivalMs);
        }
      } else if (p.type === 'nack') {
        sender.paced.retransmit(p.mediaSsrc, p.seqs, this.lastRttMs ?? 100);
      } else if (p.type === 'pli') {
        sender.requestKeyFrame('receiver request (PLI)');
      } else if (p.type === 'app-feedback' && p.identifier === APP_IDENTIFIER) {
        const m = decodeAppMessage(p.data);
        if (m?.kind === 'clock-echo') this.clockSync.echo(m.lsr, m.receivedMs, m.sentMs, arrivalMs);
        else if (m?.kind === 'iframe-complete') sender.onEpisodeFeedback(m.kind, m.frameId, m.frameId);
        else if (m?.kind === 'caught-up') sender.onEpisodeFeedback(m.kind, m.frameId, m.pictureId);
        else if (m?.kind === 'settled' && m.frameId === this.endOfStream?.frameId) this.endOfStream.resolve({ reported: true, rendered: m.rendered });
      } else if (p.type === 'bye') {
        this.o.onPeerGone('the receiver left (RTCP BYE)');
      }
    }
  }
}
