/**
 * A loss injector for experiments and tests (`testbed answer --drop KIND:FRAME[:always]`):
 * drops the last packet (the marker) of a chosen frame as it arrives, before anything
 * else sees it. Once: the first arrival only, so a retransmission can recover it.
 * Always: every arrival, retransmissions included, so the frame is unrecoverable.
 */
import type { RtpPacket, StreamKind } from '../rtp/types';

export interface DropSpec {
  stream: StreamKind;
  frameId: number;
  always: boolean;
}

export class DropSpecError extends Error {
  override name = 'UsageError';
}

export function parseDropSpec(v: string): DropSpec {
  const m = /^(primary|backup):(\d+)(:always)?$/.exec(v.trim());
  if (!m) throw new DropSpecError(`--drop must be KIND:FRAME or KIND:FRAME:always (KIND primary|backup), got '${v}'`);
  return { stream: m[1] as StreamKind, frameId: Number(m[2]), always: !!m[3] };
}

export class LossInjector {
  private readonly seen = new Set<string>();
  dropped = 0;

  constructor(private readonly specs: DropSpec[]) {}

  shouldDrop(p: RtpPacket, stream: StreamKind): boolean {
    const fid = p.extensions.frameId;
    if (!fid || !p.marker) return false;
    const spec = this.specs.find((s) => s.stream === stream && s.frameId === fid.frameId);
    if (!spec) return false;
    const key = `${p.ssrc}:${p.sequenceNumber}`;
    if (!spec.always && this.seen.has(key)) return false;
    this.seen.add(key);
    this.dropped++;
    return true;
  }
}
