/**
 * The one werift adapter. werift does ICE, DTLS-SRTP and SDP; the media layer
 * (packetization, pacing, RTCP, reception) is ours. Every use of werift internals is
 * here, checked by test/transport/webrtc.test.ts so a werift upgrade fails loudly:
 *
 * - RTCDtlsTransport.prototype.startSrtp is replaced so that decrypted RTP and RTCP
 *   reach our handlers as raw buffers, below werift's RTCP parser (which drops our
 *   PSFB FMT 15 and other unknown feedback) and its router (which would otherwise
 *   run its own NACK/RTCP machinery on our streams);
 * - packets are encrypted with the transport's `srtp`/`srtcp` sessions and sent on the
 *   nominated ICE pair (`iceTransport.connection.send`), bypassing RTCRtpSender
 *   (no pacer, rewrites SSRC/PT, random SR timers);
 * - the UDP socket behind the nominated pair gets larger kernel buffers;
 * - the SRTP rollover counter of every RTP packet, sent or received, is set from RFC 3711
 *   §3.3.1 index estimation (`RocEstimator`) in werift's per-SSRC state before werift
 *   encrypts or decrypts it. werift's own rule only looks at the previous packet's
 *   sequence number (±100 around the wrap): a burst of losses across a sequence-number
 *   wrap, or a retransmission of an older packet sent across one, leaves the two ends on
 *   different rollover counters, and from then on every RTP packet fails authentication
 *   and is silently dropped while RTCP still flows (seen as "no media for 5 s" in about one
 *   run in twenty with loss: sequence numbers start at random values).
 */
import * as werift from 'werift';
import { monotonicClock, type Clock } from '../clock';
import { EXT_ID, EXT_URI } from '../rtp/types';
import type { PacketHandler, PacketTransport } from './packet-transport';

/** What the two peers agreed on, read from the SDP. */
export interface NegotiatedMedia {
  /** One SSRC per video stream, in m-line order (primary first). */
  ssrcs: number[];
  payloadType: number;
}

export interface PeerOptions {
  /** Address used as the only host candidate (loopback by default; a namespace's veth address across hosts). */
  iceHost: string;
  clock?: Clock;
  /** Kernel socket buffers (bytes); werift's default is the OS default (~200 kB). */
  socketBufferBytes?: number;
}

export type { PacketHandler };

/**
 * The largest SRTP authentication tag (AEAD_AES_128_GCM, RFC 7714), counted as overhead
 * until the first packet shows the negotiated profile's own.
 */
const MAX_SRTP_TAG_BYTES = 16;

/** Thrown for malformed SDP, failed negotiation or a connection that never comes up. */
export class TransportError extends Error {
  override name = 'TransportError';
}

const H264_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f';

/** werift's per-SSRC SRTP state (srtp/context/context.ts SrtpSsrcState). */
interface SrtpSsrcStateLike {
  ssrc: number;
  rolloverCounter: number;
  lastSequenceNumber: number;
  rolloverHasProcessed?: boolean;
}
interface SrtpContextLike {
  srtpSSRCStates: Record<number, SrtpSsrcStateLike>;
}
interface SrtpSessionLike {
  encrypt(payload: Buffer, header: RtpHeaderLike): Buffer;
  decrypt(buf: Buffer): Buffer;
  localContext: SrtpContextLike;
  remoteContext: SrtpContextLike;
}

/**
 * RFC 3711 §3.3.1: the rollover counter of a packet from its 16-bit sequence number and the
 * highest index seen on its SSRC (s_l, ROC): the index closest to the highest one.
 */
export class RocEstimator {
  private readonly highest = new Map<number, number>();

  /** The packet's rollover counter (0 for an SSRC's first packet, as both ends start). */
  roc(ssrc: number, seq: number): number {
    const h = this.highest.get(ssrc);
    if (h === undefined) return 0;
    const roc = Math.floor(h / 0x10000);
    const sl = h % 0x10000;
    const v = sl < 0x8000 ? (seq - sl > 0x8000 ? roc - 1 : roc) : sl - 0x8000 > seq ? roc + 1 : roc;
    return Math.max(0, v);
  }

  /** A packet with this index was sent, or received and authenticated. */
  update(ssrc: number, seq: number, roc: number): void {
    const index = roc * 0x10000 + seq;
    if (index > (this.highest.get(ssrc) ?? -1)) this.highest.set(ssrc, index);
  }
}

/** Makes werift use `roc` for the next packet of `ssrc`: its own rule skips a state that has not processed a packet yet. */
function pinRoc(ctx: SrtpContextLike, ssrc: number, seq: number, roc: number): void {
  if (!ctx || typeof ctx.srtpSSRCStates !== 'object') throw new Error('werift changed: SRTP context without srtpSSRCStates (adapter needs updating)');
  ctx.srtpSSRCStates[ssrc] = { ssrc, rolloverCounter: roc, lastSequenceNumber: seq };
}
interface SrtcpSessionLike {
  encrypt(raw: Buffer): Buffer;
  decrypt(buf: Buffer): Buffer;
}
interface RtpHeaderLike {
  ssrc: number;
  sequenceNumber: number;
  serializeSize: number;
  serialize(size: number): Buffer;
}
/** The werift internals we touch, typed once so a rename breaks the build or the adapter test. */
interface DtlsInternals {
  srtpStarted: boolean;
  srtp: SrtpSessionLike;
  srtcp: SrtcpSessionLike;
  updateSrtpSession(): void;
  iceTransport: { connection: IceConnectionInternals };
}
interface IceConnectionInternals {
  onData: { subscribe(fn: (data: Buffer) => void): unknown };
  send(data: Buffer): Promise<void>;
  nominated?: { protocol?: { transport?: { socket?: import('node:dgram').Socket } }; remoteCandidate?: { host?: string } };
}

interface Tap {
  onRtp: PacketHandler;
  onRtcp: PacketHandler;
  clock: Clock;
  /** Indexes of the RTP packets received (per SSRC). */
  received: RocEstimator;
}

const taps = new WeakMap<object, Tap>();
let patched = false;

/** Installs our SRTP receive path on werift's DTLS transport (idempotent). */
export function installSrtpTap(): void {
  if (patched) return;
  const proto = (werift.RTCDtlsTransport as unknown as { prototype: Record<string, unknown> }).prototype;
  if (typeof proto.startSrtp !== 'function' || typeof proto.updateSrtpSession !== 'function') {
    throw new Error('werift changed: RTCDtlsTransport.startSrtp/updateSrtpSession not found (adapter needs updating)');
  }
  proto.startSrtp = function startSrtp(this: DtlsInternals) {
    if (this.srtpStarted) return;
    this.srtpStarted = true;
    this.updateSrtpSession();
    this.iceTransport.connection.onData.subscribe((data: Buffer) => {
      // Looked up per packet: the peer registers its tap when it learns of the transport,
      // which may be after DTLS came up; nothing is listening before that anyway.
      const tap = taps.get(this);
      if (!tap) return;
      const arrivalMs = tap.clock.now();
      // RFC 7983 demultiplexing: RTP/RTCP first byte in 128..191.
      if (data.length < 12 || data[0] < 128 || data[0] > 191) return;
      // RFC 5761: RTCP packet types 192..223 occupy the second byte.
      const pt = data[1];
      const rtcp = pt >= 192 && pt <= 223;
      const ssrc = data.readUInt32BE(rtcp ? 4 : 8);
      const seq = data.readUInt16BE(2);
      const roc = rtcp ? 0 : tap.received.roc(ssrc, seq);
      let plain: Buffer;
      try {
        if (!rtcp) pinRoc(this.srtp.remoteContext, ssrc, seq, roc);
        plain = rtcp ? this.srtcp.decrypt(data) : this.srtp.decrypt(data);
      } catch {
        // Authentication failures and garbage are dropped, as werift itself does.
        return;
      }
      if (!rtcp) tap.received.update(ssrc, seq, roc);
      try {
        if (rtcp) tap.onRtcp(plain, arrivalMs);
        else tap.onRtp(plain, arrivalMs);
      } catch {
        // As before: a handler's failure on one packet does not stop the transport.
      }
    });
  };
  patched = true;
}

/** Byte length of an RTP header (fixed part, CSRCs, extension) at the start of `buf`. */
function rtpHeaderLength(buf: Buffer): number {
  const cc = buf[0] & 0x0f;
  let len = 12 + 4 * cc;
  if (buf[0] & 0x10) len += 4 + 4 * buf.readUInt16BE(len + 2);
  return len;
}

export class WebRtcPeer implements PacketTransport {
  onRtp: PacketHandler = () => {};
  onRtcp: PacketHandler = () => {};
  /** Called once when the connection fails or closes after having been up. */
  onDisconnect: (state: string) => void = () => {};

  private dtls: DtlsInternals | undefined;
  private role: 'offer' | 'answer' = 'answer';
  private closed = false;
  private readonly clock: Clock;
  bytesSent = 0;
  packetsSent = 0;
  /** Indexes of the RTP packets sent (per SSRC), for their SRTP rollover counters. */
  private readonly sentIndexes = new RocEstimator();
  /** SRTP tag bytes of the negotiated profile, measured on the first packet sent. */
  private srtpTagBytes: number | null = null;

  private constructor(
    private readonly pc: werift.RTCPeerConnection,
    private readonly opts: PeerOptions,
  ) {
    this.clock = opts.clock ?? monotonicClock;
    pc.connectionStateChange.subscribe((state) => {
      if ((state === 'failed' || state === 'closed' || state === 'disconnected') && !this.closed) {
        this.onDisconnect(state);
      }
    });
  }

  static create(opts: PeerOptions): WebRtcPeer {
    installSrtpTap();
    const pc = new werift.RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [opts.iceHost],
      bundlePolicy: 'max-bundle',
      codecs: {
        video: [
          new werift.RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            // Our own receiver does NACK/PLI/feedback: werift must not.
            rtcpFeedback: [],
            parameters: H264_FMTP,
          }),
        ],
      },
      headerExtensions: {
        video: [
          new werift.RTCRtpHeaderExtensionParameters({ uri: EXT_URI.absSendTime, id: EXT_ID.absSendTime }),
          new werift.RTCRtpHeaderExtensionParameters({ uri: EXT_URI.transportWideSeq, id: EXT_ID.transportWideSeq }),
          new werift.RTCRtpHeaderExtensionParameters({ uri: EXT_URI.frameMarking, id: EXT_ID.frameMarking }),
          new werift.RTCRtpHeaderExtensionParameters({ uri: EXT_URI.frameRef, id: EXT_ID.frameRef }),
        ],
      },
    });
    return new WebRtcPeer(pc, opts);
  }

  /** Offerer: one send-only video m-line per stream, all bundled on one transport. */
  async createOffer(streams: number): Promise<string> {
    this.role = 'offer';
    for (let i = 0; i < streams; i++) this.pc.addTransceiver('video', { direction: 'sendonly' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.registerTap();
    await this.gathered();
    return this.localSdp();
  }

  /** Answerer: accepts the offer (its stream count decides single or dual) and returns the answer. */
  async acceptOffer(sdp: string): Promise<string> {
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
    } catch (e) {
      throw new TransportError(`malformed SDP offer (${firstLine(e)})`);
    }
    this.registerTap();
    if (this.pc.getTransceivers().length === 0) throw new TransportError('the offer has no video stream');
    for (const t of this.pc.getTransceivers()) t.setDirection('recvonly');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.localSdp();
  }

  async acceptAnswer(sdp: string): Promise<void> {
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (e) {
      throw new TransportError(`malformed SDP answer (${firstLine(e)})`);
    }
  }

  /** Resolves when DTLS-SRTP is up; rejects after `timeoutMs`. */
  async connected(timeoutMs: number): Promise<void> {
    const dtls = this.registerTap();
    const deadline = Date.now() + timeoutMs;
    while (!(dtls.state === 'connected' && dtls.srtpStarted)) {
      if (this.pc.connectionState === 'failed') throw new TransportError('ICE/DTLS connection failed');
      if (Date.now() > deadline) {
        throw new TransportError(`the peer did not connect within ${Math.round(timeoutMs / 1000)} s`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const socket = dtls.iceTransport.connection.nominated?.protocol?.transport?.socket;
    const size = this.opts.socketBufferBytes ?? 4 * 1024 * 1024;
    if (socket) {
      try {
        socket.setRecvBufferSize(size);
        socket.setSendBufferSize(size);
      } catch {
        // The kernel caps these at net.core.rmem_max; a smaller buffer only risks drops under bursts.
      }
    }
  }

  /** The local UDP address of the nominated ICE pair (where the peer's media arrives), once connected. */
  localMediaAddress(): { address: string; port: number } | null {
    const socket = this.registerTap().iceTransport.connection.nominated?.protocol?.transport?.socket;
    if (!socket) return null;
    const a = socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * What was negotiated: the media SSRCs per m-line (the offerer's, which is the sending
   * side: announced in its SDP as `a=ssrc:`) and the H.264 payload type.
   */
  negotiated(): NegotiatedMedia {
    const offerSdp = (this.role === 'offer' ? this.pc.localDescription : this.pc.remoteDescription)?.sdp ?? '';
    const ssrcs: number[] = [];
    for (const section of offerSdp.split(/\r?\nm=/).slice(1)) {
      const m = /a=ssrc:(\d+)/.exec(section);
      if (!m) throw new TransportError('the offer has a video stream without an SSRC');
      ssrcs.push(Number(m[1]));
    }
    let payloadType = -1;
    for (const t of this.pc.getTransceivers()) {
      const codec = t.codecs.find((c) => c.mimeType.toLowerCase() === 'video/h264');
      if (codec) payloadType = codec.payloadType;
    }
    if (payloadType < 0 || ssrcs.length === 0) throw new TransportError('H.264 video was not negotiated');
    for (const [name, uri] of Object.entries(EXT_URI) as [keyof typeof EXT_URI, string][]) {
      const m = new RegExp(`a=extmap:(\\d+)(?:/\\w+)? ${uri.replace(/[.]/g, '\\.')}`).exec(offerSdp);
      if (!m || Number(m[1]) !== EXT_ID[name]) {
        throw new TransportError(`the offer does not carry header extension ${uri} with id ${EXT_ID[name]}`);
      }
    }
    return { ssrcs, payloadType };
  }

  /**
   * Sends one RTP packet we serialized (header with our extensions + payload). Returns the
   * size of the IP packet it becomes: SRTP-protected packet + UDP + IPv4/IPv6 header, which is
   * what the congestion controller counts (libwebrtc adds the transport overhead the same way).
   */
  sendRtp(packet: Buffer): number {
    const dtls = this.requireDtls();
    const hlen = rtpHeaderLength(packet);
    const header = packet.subarray(0, hlen);
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const roc = this.sentIndexes.roc(ssrc, seq);
    pinRoc(dtls.srtp.localContext, ssrc, seq, roc);
    const enc = dtls.srtp.encrypt(packet.subarray(hlen), { ssrc, sequenceNumber: seq, serializeSize: hlen, serialize: () => header });
    this.sentIndexes.update(ssrc, seq, roc);
    this.bytesSent += packet.length;
    this.packetsSent++;
    this.srtpTagBytes = enc.length - packet.length;
    dtls.iceTransport.connection.send(enc).catch(() => {});
    return enc.length + this.udpIpHeaderBytes(dtls);
  }

  overheadBytes(): number {
    const udpIp = this.dtls?.srtpStarted ? this.udpIpHeaderBytes(this.dtls) : 8 + 20;
    return (this.srtpTagBytes ?? MAX_SRTP_TAG_BYTES) + udpIp;
  }

  private udpIpHeaderBytesCached: number | null = null;
  /** UDP (8) + IPv4 (20) or IPv6 (40) header bytes of the selected candidate pair. */
  private udpIpHeaderBytes(dtls: DtlsInternals): number {
    if (this.udpIpHeaderBytesCached === null) {
      const host = dtls.iceTransport.connection.nominated?.remoteCandidate?.host ?? '';
      this.udpIpHeaderBytesCached = 8 + (host.includes(':') ? 40 : 20);
    }
    return this.udpIpHeaderBytesCached;
  }

  /** Sends one (compound) RTCP packet we serialized. */
  sendRtcp(compound: Buffer): void {
    const dtls = this.requireDtls();
    dtls.iceTransport.connection.send(dtls.srtcp.encrypt(compound)).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pc.close().catch(() => {});
  }

  private registerTap(): DtlsInternals & { state: string } {
    // max-bundle: one transport carries every stream.
    const dtls = this.pc.dtlsTransports[0] as unknown as (DtlsInternals & { state: string }) | undefined;
    if (!dtls) throw new TransportError('no transport was negotiated');
    if (!taps.has(dtls)) {
      taps.set(dtls, { clock: this.clock, onRtp: (b, t) => this.onRtp(b, t), onRtcp: (b, t) => this.onRtcp(b, t), received: new RocEstimator() });
    }
    this.dtls = dtls;
    return dtls;
  }

  private requireDtls(): DtlsInternals {
    if (!this.dtls?.srtpStarted) throw new Error('WebRtcPeer: not connected');
    return this.dtls;
  }

  private localSdp(): string {
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new TransportError('no local description');
    return sdp;
  }

  private async gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
}

/**
 * werift's SDP parser alone (what setRemoteDescription runs first), for the fuzz pass:
 * throws a TransportError with one line when werift refuses the text, whatever werift
 * threw (its parser throws TypeErrors on some inputs).
 */
export function parseSdp(sdp: string): { media: number } {
  try {
    return { media: werift.SessionDescription.parse(sdp).media.length };
  } catch (e) {
    throw new TransportError(`malformed SDP (${firstLine(e)})`);
  }
}
