/**
 * Receive-side timing, ported from libwebrtc modules/video_coding/timing/ (see each file's
 * header for the revision followed). Pure classes: no timers, no clock; every method that
 * needs the time takes it in ms.
 *
 * How libwebrtc wires them per decodable frame (VideoStreamBufferController::OnFrameReady):
 *   timing.incomingTimestamp(rtp, lastPacketReceiveMs)        // on frame complete
 *   const d = ifdv.calculate(rtp, lastPacketReceiveMs)         // not for retransmitted frames
 *   if (d !== undefined) jitter.updateEstimate(d, frameBytes, nowMs)
 *   timing.setJitterDelayMs(jitter.getJitterEstimateMs(rttMult, undefined, nowMs))
 *   timing.updateCurrentDelay(rtp)
 *   renderMs = timing.renderTimeMs(rtp, nowMs)
 *   waitMs   = timing.maxWaitingTimeMs(renderMs, nowMs)
 *   ... after decode: timing.addDecodeTime(decodeMs, nowMs)
 *   (a NACKed frame: jitter.frameNacked(nowMs) instead of updateEstimate)
 */
export * from './frame-delay-kalman';
export * from './rtt-filter';
export * from './jitter-estimator';
export * from './inter-frame-delay';
export * from './decode-time-filter';
export * from './timestamp-extrapolator';
export * from './timing';
export * from './percentile-filter';
export * from './rtp-timestamp';
