/**
 * Inter-frame delay variation: how much later (or earlier) a frame completed than its RTP
 * timestamp says it should have, relative to the previous frame:
 *
 *   delay = (receive_time - prev_receive_time) - (rtp_ts - prev_rtp_ts) / 90 kHz
 *
 * This is the `frame_delay` input of JitterEstimator.updateEstimate().
 *
 * Port of libwebrtc modules/video_coding/timing/inter_frame_delay_variation_calculator.cc
 * (InterFrameDelayVariationCalculator, read at ajune-wang/webrtc@f999710; previously
 * inter_frame_delay.cc / InterFrameDelay::CalculateDelay, same logic).
 */
import { RtpTimestampUnwrapper, isNewerTimestamp, toUint32 } from './rtp-timestamp';

// --- Constants (inter_frame_delay_variation_calculator.cc) ---
/** k90kHz: the video RTP clock rate, in ticks per millisecond. */
export const kRtpTicksPerMs = 90;

export class InterFrameDelayVariation {
  private readonly unwrapper = new RtpTimestampUnwrapper();
  private prevWallClockMs: number | undefined;
  private prevRtpTimestampUnwrapped = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.prevWallClockMs = undefined;
    this.prevRtpTimestampUnwrapped = 0;
    // Note: libwebrtc's Reset() keeps the unwrapper state; so does this port.
  }

  /**
   * @param rtpTimestamp90k 32-bit RTP timestamp of the complete frame
   * @param receiveTimeMs   time the frame became complete (its last packet's arrival)
   * @returns the delay variation in ms; 0 for the first frame; undefined for a frame that is
   *          older than (or as old as) the previous one (reordering), which must not feed the
   *          jitter estimator.
   */
  calculate(rtpTimestamp90k: number, receiveTimeMs: number): number | undefined {
    const rtpTimestampUnwrapped = this.unwrapper.unwrap(rtpTimestamp90k);
    if (this.prevWallClockMs === undefined) {
      // First set of data, initialization, wait for next frame.
      this.prevWallClockMs = receiveTimeMs;
      this.prevRtpTimestampUnwrapped = rtpTimestampUnwrapped;
      return 0;
    }

    // Account for reordering: this also captures incomplete frames which are grabbed for
    // decoding after a later frame has been complete, i.e. real packet losses.
    const croppedLast = toUint32(this.prevRtpTimestampUnwrapped);
    if (
      rtpTimestampUnwrapped < this.prevRtpTimestampUnwrapped ||
      !isNewerTimestamp(rtpTimestamp90k, croppedLast)
    ) {
      return undefined;
    }

    // Compute the compensated timestamp difference.
    const dRtpTicks = rtpTimestampUnwrapped - this.prevRtpTimestampUnwrapped;
    const dtsMs = dRtpTicks / kRtpTicksPerMs;
    const dtMs = receiveTimeMs - this.prevWallClockMs;

    // The difference of the wall clock time difference and the timestamp difference between
    // two following frames.
    const delayMs = dtMs - dtsMs;

    this.prevRtpTimestampUnwrapped = rtpTimestampUnwrapped;
    this.prevWallClockMs = receiveTimeMs;
    return delayMs;
  }
}

/** libwebrtc's class name. */
export { InterFrameDelayVariation as InterFrameDelayVariationCalculator };
