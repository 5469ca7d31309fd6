/**
 * 32-bit RTP timestamp helpers shared by the timing classes.
 *
 * Follows libwebrtc:
 *  - modules/include/module_common_types_public.h  IsNewerTimestamp() / IsNewer<U>()
 *  - rtc_base/numerics/sequence_number_unwrapper.h SeqNumUnwrapper<uint32_t>
 *    (RtpTimestampUnwrapper): Unwrap() / PeekUnwrap() (UnwrapWithoutUpdate() in
 *    older revisions).
 */

/** 2^32: modulus of the RTP timestamp. */
export const RTP_TIMESTAMP_MODULUS = 0x1_0000_0000;
/** kBreakpoint = (max >> 1) + 1 for uint32_t (module_common_types_public.h). */
const kBreakpoint = 0x8000_0000;

/** Reduce any integer to its uint32_t value (what a C++ static_cast<uint32_t> does). */
export function toUint32(value: number): number {
  return ((value % RTP_TIMESTAMP_MODULUS) + RTP_TIMESTAMP_MODULUS) % RTP_TIMESTAMP_MODULUS;
}

/** (a - b) computed in uint32_t arithmetic. */
export function forwardDiff(b: number, a: number): number {
  return toUint32(a - b);
}

/**
 * libwebrtc IsNewerTimestamp(timestamp, prev_timestamp): true if `value` is strictly newer
 * than `prevValue` modulo 2^32. Two values exactly 2^31 apart: the numerically larger
 * one is newer.
 */
export function isNewerTimestamp(value: number, prevValue: number): boolean {
  const v = toUint32(value);
  const p = toUint32(prevValue);
  const diff = forwardDiff(p, v);
  if (diff === kBreakpoint) return v > p;
  return v !== p && diff < kBreakpoint;
}

/** AheadOrAt<uint32_t>(a, b) from sequence_number_util.h. */
function aheadOrAt(a: number, b: number): boolean {
  const diff = forwardDiff(b, a);
  if (diff === kBreakpoint) return b < a;
  return diff < kBreakpoint;
}

/**
 * libwebrtc RtpTimestampUnwrapper (SeqNumUnwrapper<uint32_t>): maps a 32-bit timestamp to a
 * monotone 64-bit timeline. The first value unwraps to itself; every later value moves the
 * unwrapped value by the shortest signed distance from the previous one.
 */
export class RtpTimestampUnwrapper {
  private lastValue: number | undefined;
  private lastUnwrapped = 0;

  unwrap(value: number): number {
    const v = toUint32(value);
    if (this.lastValue === undefined) {
      this.lastUnwrapped = v;
    } else {
      this.lastUnwrapped += RtpTimestampUnwrapper.delta(this.lastValue, v);
    }
    this.lastValue = v;
    return this.lastUnwrapped;
  }

  /** Unwrap without updating the state (PeekUnwrap / UnwrapWithoutUpdate). */
  peekUnwrap(value: number): number {
    const v = toUint32(value);
    if (this.lastValue === undefined) return v;
    return this.lastUnwrapped + RtpTimestampUnwrapper.delta(this.lastValue, v);
  }

  reset(): void {
    this.lastValue = undefined;
    this.lastUnwrapped = 0;
  }

  private static delta(lastValue: number, newValue: number): number {
    let result = forwardDiff(lastValue, newValue);
    if (!aheadOrAt(newValue, lastValue)) result -= RTP_TIMESTAMP_MODULUS;
    return result;
  }
}

/**
 * Round a millisecond value the way libwebrtc's TimeDelta::ms() does (DivideRoundToNearest:
 * halves go towards +infinity for the values that occur here), which is Math.round().
 * Returns +0 instead of -0.
 */
export function roundMs(ms: number): number {
  return Math.round(ms) + 0;
}
