/**
 * 16-bit RTP sequence number arithmetic (RFC 3550 §5.1: the sequence number wraps at
 * 2^16 and starts at a random value, so every comparison must be modular).
 *
 * Follows libwebrtc rtc_base/numerics/sequence_number_unwrapper.h (SeqNumUnwrapper<uint16_t>):
 * every value moves the unwrapped timeline by the shortest signed distance from the
 * previous value, so a packet reordered across the 65535 → 0 wrap lands on the right side.
 */

export const SEQ_MODULUS = 0x1_0000;

/** Shortest signed distance from `a` to `b` in 16-bit space, in [-32768, 32767]. */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - SEQ_MODULUS : d;
}

/** True if `a` comes after `b` (modulo 2^16). */
export function seqNewer(a: number, b: number): boolean {
  return seqDelta(b, a) > 0;
}

/**
 * Maps 16-bit sequence numbers onto an unbounded timeline. The first value unwraps to
 * itself; values may go below zero if the first packets arrive reordered across a wrap.
 */
export class SeqUnwrapper {
  private last: number | undefined;
  private lastUnwrapped = 0;

  unwrap(seq: number): number {
    const v = seq & 0xffff;
    if (this.last === undefined) this.lastUnwrapped = v;
    else this.lastUnwrapped += seqDelta(this.last, v);
    this.last = v;
    return this.lastUnwrapped;
  }
}
