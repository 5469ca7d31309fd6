/**
 * A loss injector for experiments and tests (`testbed answer --drop SPEC`), applied on
 * arrival before anything else sees the packet:
 *   - KIND:FRAME drops the last packet (the marker) of a chosen frame, on its first
 *     arrival only, so a retransmission can recover it; KIND:FRAME:always drops every
 *     arrival, retransmissions included, so the frame is unrecoverable.
 *   - rtcp-bye drops every RTCP BYE, as a saturated link does when the sender's goodbye
 *     meets a full queue: the run must still end normally (the signaling channel's bye).
 */
import type { RtcpPacket, RtpPacket, StreamKind } from '../rtp/types';

export interface FrameDropSpec {
  stream: StreamKind;
  frameId: number;
  always: boolean;
}

export type DropSpec = FrameDropSpec | { rtcp: 'bye' };

export class DropSpecError extends Error {
  override name = 'UsageError';
}

export function parseDropSpec(v: string): DropSpec {
  if (v.trim() === 'rtcp-bye') return { rtcp: 'bye' };
  const m = /^(primary|backup):(\d+)(:always)?$/.exec(v.trim());
  if (!m) throw new DropSpecError(`--drop must be KIND:FRAME, KIND:FRAME:always (KIND primary|backup) or rtcp-bye, got '${v}'`);
  return { stream: m[1] as StreamKind, frameId: Number(m[2]), always: !!m[3] };
}

export class LossInjector {
  private readonly seen = new Set<string>();
  private readonly frames: FrameDropSpec[];
  private readonly byes: boolean;
  /** RTP packets dropped. */
  dropped = 0;
  /** RTCP packets dropped. */
  droppedRtcp = 0;

  constructor(specs: DropSpec[]) {
    this.frames = specs.filter((s): s is FrameDropSpec => !('rtcp' in s));
    this.byes = specs.some((s) => 'rtcp' in s && s.rtcp === 'bye');
  }

  shouldDrop(p: RtpPacket, stream: StreamKind): boolean {
    const fid = p.extensions.frameId;
    if (!fid || !p.marker) return false;
    const spec = this.frames.find((s) => s.stream === stream && s.frameId === fid.frameId);
    if (!spec) return false;
    const key = `${p.ssrc}:${p.sequenceNumber}`;
    if (!spec.always && this.seen.has(key)) return false;
    this.seen.add(key);
    this.dropped++;
    return true;
  }

  /** For one packet of a received RTCP compound. */
  shouldDropRtcp(p: RtcpPacket): boolean {
    if (p.type !== 'bye' || !this.byes) return false;
    this.droppedRtcp++;
    return true;
  }
}
