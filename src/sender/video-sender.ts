/**
 * One video stream's send path: captured picture → x264 → RFC 6184 packets → pacer →
 * header extensions stamped at the moment of sending → SRTP. Encoding runs on libuv's
 * pool (beamcoder), so the pacer's timers never wait behind it.
 */
import type { Clock } from '../clock';
import { H264Encoder, VIDEO_CLOCK_HZ, type EncoderConfig } from '../media/codec';
import type { CapturedFrame } from '../media/source';
import type { SenderFrameRow } from '../metrics/rows';
import { absSendTimeFromMs, MAX_REF_DELTA } from '../rtp/extensions';
import { packetizeH264 } from '../rtp/h264';
import { rtpHeaderSize, serializeRtp } from '../rtp/packet';
import type { RtpPacket, StreamKind } from '../rtp/types';
import { Pacer, type PacketPriority } from './pacer';

export interface VideoSenderOptions {
  stream: StreamKind;
  ssrc: number;
  payloadType: number;
  /** Largest RTP packet (header + payload), bytes. */
  mtu: number;
  /** Force an I-frame every this many pictures (0: only the first). */
  keyintFrames: number;
  encoder: EncoderConfig;
  clock: Clock;
  /** Hands a serialized RTP packet to the transport. */
  send: (packet: Buffer) => void;
  /** Called once per frame when its row is final (all packets sent, or dropped). */
  onFrameDone: (row: SenderFrameRow) => void;
  /** Transport-wide sequence numbers are shared by every stream on the transport. */
  nextTransportSeq: () => number;
}

interface QueuedPacket {
  packet: RtpPacket;
  row: SenderFrameRow;
}

interface InFlight {
  row: SenderFrameRow;
  remaining: number;
}

export class VideoSender {
  readonly pacer: Pacer<QueuedPacket>;
  private readonly encoder: H264Encoder;
  private waiting: CapturedFrame | null = null;
  /** Frames whose packets are still in the pacer, until their last packet is sent. */
  private readonly flights = new Map<SenderFrameRow, InFlight>();
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly rtpBase = Math.floor(Math.random() * 0x1_0000_0000);  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private encodesRunning: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastEncodedId = -1;

  /** RTCP SR counters (RFC 3550 §6.4.1). */
  packetsSent = 0;
  payloadBytesSent = 0;
  lastRtpTimestamp = 0;
  lastCaptureMs = 0;
  framesEncoded = 0;
  framesDropped = 0;

  constructor(private readonly o: VideoSenderOptions) {
    this.encoder = H264Encoder.open(o.encoder);
    this.pacer = new Pacer<QueuedPacket>(o.encoder.bitrateBps);
  }

  /** RTP timestamp of a moment on our clock: 90 kHz capture time, random base (RFC 3550 §5.1). */
  rtpTimestampAt(ms: number): number {
    return (this.rtpBase + Math.round((ms * VIDEO_CLOCK_HZ) / 1000)) >>> 0;
  }

  setTargetRate(bps: number): void {
    this.encoder.setBitrate(bps);
    this.pacer.setTargetRate(bps, this.o.clock.now());
  }

  /**
   * A picture arrives. If x264 is still busy with the previous one, the newest picture
   * waits (replacing an older waiting one, which is dropped and logged), as a real-time
   * encoder does rather than building a queue.
   */
  onCapture(cap: CapturedFrame): void {
    if (this.stopped) return;
    if (this.encoder.isBusy) {
      if (this.waiting) this.drop(this.waiting, 'encoder-busy');
      this.waiting = cap;
      return;
    }
    this.encodesRunning = this.encode(cap);
  }

  private async encode(cap: CapturedFrame): Promise<void> {
    const o = this.o;
    const key = cap.frameId === 0 || (o.keyintFrames > 0 && cap.frameId % o.keyintFrames === 0);
    const rtpTimestamp = this.rtpTimestampAt(cap.captureMs);
    const row: SenderFrameRow = {
      frame_id: cap.frameId,
      stream: o.stream,
      source_index: cap.sourceIndex,
      frame_type: '',
      size_bytes: 0,
      qp: '',
      packets: 0,
      rtp_timestamp: rtpTimestamp,
      capture_ms: cap.captureMs,
      encode_start_ms: o.clock.now(),
      encode_end_ms: '',
      pacer_enqueue_ms: '',
      first_sent_ms: '',
      last_sent_ms: '',
      dropped: '',
    };
    const pic = await this.encoder.encode(cap.frame, rtpTimestamp, key);
    const now = o.clock.now();
    row.encode_end_ms = now;
    row.frame_type = pic.key ? 'I' : 'P';
    row.size_bytes = pic.data.length;
    row.qp = pic.qp ?? '';
    this.framesEncoded++;
    this.lastRtpTimestamp = rtpTimestamp;
    this.lastCaptureMs = cap.captureMs;
    if (!this.stopped) this.enqueueFrame(cap.frameId, pic.data, pic.key, rtpTimestamp, row, now);
    const next = this.waiting;
    this.waiting = null;
    if (next && !this.stopped) await this.encode(next);
  }

  private enqueueFrame(frameId: number, au: Buffer, key: boolean, rtpTimestamp: number, row: SenderFrameRow, now: number): void {
    const o = this.o;
    // x264 predicts from the previous *encoded* picture: tell the receiver how far back
    // that is, so a picture dropped before encoding does not look like a loss.
    const refDelta = key || this.lastEncodedId < 0 ? 0 : Math.min(MAX_REF_DELTA, frameId - this.lastEncodedId);
    this.lastEncodedId = frameId;
    const template: RtpPacket = {
      payloadType: o.payloadType,
      sequenceNumber: 0,
      timestamp: rtpTimestamp,
      ssrc: o.ssrc,
      marker: false,
      extensions: { absSendTime: 0, transportWideSeq: 0, frameId: { frameId, start: true, end: true, key, refDelta } },
      payload: Buffer.alloc(0),
    };
    const payloads = packetizeH264(au, o.mtu - rtpHeaderSize(template.extensions));
    row.packets = payloads.length;
    row.pacer_enqueue_ms = now;
    const priority: PacketPriority = o.stream === 'backup' ? 'backup' : 'video';
    payloads.forEach((payload, i) => {
      const last = i === payloads.length - 1;
      const packet: RtpPacket = {
        ...template,
        sequenceNumber: this.seq,
        marker: last,
        extensions: { frameId: { frameId, start: i === 0, end: last, key, refDelta } },
        payload,
      };
      this.seq = (this.seq + 1) & 0xffff;
      this.pacer.enqueue({ packet, row }, packet.payload.length + rtpHeaderSize(template.extensions), priority, now);
    });
    this.flights.set(row, { row, remaining: payloads.length });
    this.pump();
  }

  /** Sends what the pacer releases now and re-arms the timer for its next release. */
  private pump(): void {
    const now = this.o.clock.now();
    for (const { packet, row } of this.pacer.process(now)) this.sendNow(packet, row);
    const next = this.pacer.nextProcessTimeMs(this.o.clock.now());
    if (next === null) return;
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, next - this.o.clock.now()));
  }

  private sendNow(packet: RtpPacket, row: SenderFrameRow): void {
    const now = this.o.clock.now();
    packet.extensions.absSendTime = absSendTimeFromMs(now);
    packet.extensions.transportWideSeq = this.o.nextTransportSeq();
    this.o.send(serializeRtp(packet));
    this.packetsSent++;
    this.payloadBytesSent += packet.payload.length;
    if (row.first_sent_ms === '') row.first_sent_ms = now;
    row.last_sent_ms = now;
    const flight = this.flights.get(row);
    if (flight && --flight.remaining === 0) {
      this.flights.delete(row);
      this.o.onFrameDone(row);
    }
  }

  private drop(cap: CapturedFrame, reason: string): void {
    this.framesDropped++;
    this.o.onFrameDone({
      frame_id: cap.frameId,
      stream: this.o.stream,
      source_index: cap.sourceIndex,
      frame_type: '',
      size_bytes: 0,
      qp: '',
      packets: 0,
      rtp_timestamp: this.rtpTimestampAt(cap.captureMs),
      capture_ms: cap.captureMs,
      encode_start_ms: '',
      encode_end_ms: '',
      pacer_enqueue_ms: '',
      first_sent_ms: '',
      last_sent_ms: '',
      dropped: reason,
    });
  }

  /** Resolves when every encoded frame has left the pacer (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<boolean> {
    await this.encodesRunning;
    const deadline = this.o.clock.now() + timeoutMs;
    while (this.pacer.queuedPackets > 0 && this.o.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.pacer.queuedPackets === 0;
  }

  /** Stops sending; frames still queued are written as dropped ('stopped') so no row is lost. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.waiting) this.drop(this.waiting, 'stopped');
    this.waiting = null;
    for (const f of this.flights.values()) {
      f.row.dropped = 'stopped';
      this.o.onFrameDone(f.row);
    }
    this.flights.clear();
  }
}
