/**
 * Arrival-group pre-filtering: packets are grouped into send bursts and the detector sees
 * one (send delta, arrival delta) pair per completed group.
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/inter_arrival_delta.{h,cc}
 * (the Timestamp/TimeDelta version, 2021+, identical in WebRTC branch-heads/7204 / M138),
 * with the group length of delay_based_bwe.cc (kSendTimeGroupLength = 5 ms). Times are
 * double milliseconds instead of integer microseconds.
 *
 * Rules (all from inter_arrival_delta.cc):
 * - a packet joins the current group if its send time is at most 5 ms after the group's
 *   first send time (NewTimestampGroup: `send_time - first_send_time > group_length`
 *   starts a new group), or if it "belongs to the burst" (BelongsToBurst: same send time,
 *   or it arrived ≤ kBurstDeltaThreshold = 5 ms after the group's last arrival with a
 *   negative propagation delta, within kMaxBurstDuration = 100 ms of the group's first
 *   arrival);
 * - a group's send time is its latest send time, its arrival ("complete") time the arrival
 *   of its last packet; deltas are taken between consecutive complete groups;
 * - a packet sent before the current group's first packet is a reordered packet: ignored;
 * - a negative arrival delta between groups is reordering; after
 *   kReorderedResetThreshold = 3 in a row the state is reset;
 * - if arrival delta − system-time delta ≥ kArrivalTimeOffsetThreshold = 3 s, the arrival
 *   clock jumped: reset.
 */

/** delay_based_bwe.cc kSendTimeGroupLength. */
export const kSendTimeGroupLengthMs = 5;
/** inter_arrival_delta.cc kBurstDeltaThreshold. */
export const kBurstDeltaThresholdMs = 5;
/** inter_arrival_delta.cc kMaxBurstDuration. */
export const kMaxBurstDurationMs = 100;
/** inter_arrival_delta.h kReorderedResetThreshold. */
export const kReorderedResetThreshold = 3;
/** inter_arrival_delta.h kArrivalTimeOffsetThreshold. */
export const kArrivalTimeOffsetThresholdMs = 3000;

interface SendTimeGroup {
  size: number;
  firstSendTime: number;
  sendTime: number;
  firstArrival: number;
  /** NaN = no packet yet (libwebrtc: complete_time is MinusInfinity → IsFirstPacket). */
  completeTime: number;
  lastSystemTime: number;
}

function emptyGroup(): SendTimeGroup {
  return { size: 0, firstSendTime: NaN, sendTime: NaN, firstArrival: NaN, completeTime: NaN, lastSystemTime: NaN };
}

export interface GroupDeltas {
  /** Send time of this group − send time of the previous group (ms). */
  sendDeltaMs: number;
  /** Complete (last arrival) time of this group − that of the previous group (ms). */
  arrivalDeltaMs: number;
  /** Bytes in this group − bytes in the previous group. */
  sizeDelta: number;
}

export class InterArrivalDelta {
  private current = emptyGroup();
  private prev = emptyGroup();
  private numConsecutiveReorderedPackets = 0;

  constructor(private readonly sendTimeGroupLengthMs = kSendTimeGroupLengthMs) {}

  /**
   * Feed one received packet (in arrival order). Returns the deltas between the two
   * previous groups when this packet starts a new group, otherwise null.
   * `systemTimeMs` is the local time the packet's feedback was processed (libwebrtc passes
   * the feedback time), used only for the arrival-clock jump check.
   */
  computeDeltas(sendTimeMs: number, arrivalTimeMs: number, systemTimeMs: number, sizeBytes: number): GroupDeltas | null {
    let result: GroupDeltas | null = null;
    const cur = this.current;
    if (isFirstPacket(cur)) {
      // We don't have enough data to update the filter, so we store it until we
      // have two frames of data to process.
      cur.sendTime = sendTimeMs;
      cur.firstSendTime = sendTimeMs;
      cur.firstArrival = arrivalTimeMs;
    } else if (cur.firstSendTime > sendTimeMs) {
      // Reordered packet.
      return null;
    } else if (this.newTimestampGroup(arrivalTimeMs, sendTimeMs)) {
      // First packet of a later send burst, the previous packets sample is ready.
      if (!isFirstPacket(this.prev)) {
        const sendDeltaMs = cur.sendTime - this.prev.sendTime;
        const arrivalDeltaMs = cur.completeTime - this.prev.completeTime;
        const systemTimeDeltaMs = cur.lastSystemTime - this.prev.lastSystemTime;
        if (arrivalDeltaMs - systemTimeDeltaMs >= kArrivalTimeOffsetThresholdMs) {
          // The arrival clock offset has changed: reset.
          this.reset();
          return null;
        }
        if (arrivalDeltaMs < 0) {
          // The group of packets has been reordered since receiving its local arrival timestamp.
          this.numConsecutiveReorderedPackets++;
          if (this.numConsecutiveReorderedPackets >= kReorderedResetThreshold) this.reset();
          return null;
        }
        this.numConsecutiveReorderedPackets = 0;
        result = { sendDeltaMs, arrivalDeltaMs, sizeDelta: cur.size - this.prev.size };
      }
      this.prev = { ...cur };
      // The new timestamp is now the current frame.
      cur.firstSendTime = sendTimeMs;
      cur.sendTime = sendTimeMs;
      cur.firstArrival = arrivalTimeMs;
      cur.size = 0;
    } else {
      cur.sendTime = Math.max(cur.sendTime, sendTimeMs);
    }
    // Accumulate the frame size.
    cur.size += sizeBytes;
    cur.completeTime = arrivalTimeMs;
    cur.lastSystemTime = systemTimeMs;
    return result;
  }

  reset(): void {
    this.numConsecutiveReorderedPackets = 0;
    this.current = emptyGroup();
    this.prev = emptyGroup();
  }

  // Assumes that `sendTimeMs` is not reordered compared to the current group.
  private newTimestampGroup(arrivalTimeMs: number, sendTimeMs: number): boolean {
    if (isFirstPacket(this.current)) return false;
    if (this.belongsToBurst(arrivalTimeMs, sendTimeMs)) return false;
    return sendTimeMs - this.current.firstSendTime > this.sendTimeGroupLengthMs;
  }

  private belongsToBurst(arrivalTimeMs: number, sendTimeMs: number): boolean {
    const cur = this.current;
    const arrivalTimeDelta = arrivalTimeMs - cur.completeTime;
    const sendTimeDelta = sendTimeMs - cur.sendTime;
    if (sendTimeDelta === 0) return true;
    const propagationDelta = arrivalTimeDelta - sendTimeDelta;
    return (
      propagationDelta < 0 &&
      arrivalTimeDelta <= kBurstDeltaThresholdMs &&
      arrivalTimeMs - cur.firstArrival < kMaxBurstDurationMs
    );
  }
}

function isFirstPacket(g: SendTimeGroup): boolean {
  return Number.isNaN(g.completeTime);
}
