/**
 * What the send and receive sessions need of a transport, and nothing more: serialized
 * RTP and RTCP out, packets in with their arrival time, and the bytes a packet occupies
 * on the wire. `transport/webrtc.ts` implements it over werift (ICE, DTLS-SRTP, UDP);
 * `emulation/simulated-link.ts` in memory on simulated time, so the whole middle layer
 * runs deterministically in one process.
 */

/** A received packet (decrypted RTP or RTCP) and when it arrived (receiver's clock, ms). */
export type PacketHandler = (packet: Buffer, arrivalMs: number) => void;

export interface PacketTransport {
  /**
   * Sends one serialized RTP packet. Returns the size of the packet on the wire as the
   * rate controller counts it: the IP packet (SRTP tag, UDP and IP headers included), as
   * libwebrtc adds transport overhead to its estimates.
   */
  sendRtp(packet: Buffer): number;
  /** Sends one serialized (compound) RTCP packet. */
  sendRtcp(compound: Buffer): void;
  /** Bytes the transport adds to every RTP packet on the wire (SRTP tag, UDP/IP headers). */
  overheadBytes(): number;
  onRtp: PacketHandler;
  onRtcp: PacketHandler;
}
