/**
 * Probe bitrate estimator: the rate a probe cluster got through, from its packets' send and
 * receive times.
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/probe_bitrate_estimator.cc
 * (HandleProbeAndEstimateBitrate / FetchAndResetLastEstimatedBitrate / EraseOldClusters,
 * M99 revision). Per received probe packet, the cluster's aggregate is updated; once at least
 * kMinReceivedProbesRatio 0.8 × its min packets and kMinReceivedBytesRatio 0.8 × its min
 * bytes were received:
 *   send rate    = (bytes − size of the last sent packet) / (last send − first send)
 *   receive rate = (bytes − size of the first received packet) / (last receive − first receive)
 *   intervals ≤ 0 or > kMaxProbeInterval 1 s → no estimate; receive/send > kMaxValidRatio 2 → none;
 *   estimate = min(send, receive), or kTargetUtilizationFraction 0.95 × receive when
 *   receive < kMinRatioForUnsaturatedLink 0.9 × send (the link is saturated).
 * Clusters whose last receive is more than kMaxClusterHistory 1 s old are forgotten.
 * The min packets / min bytes come with the packet in libwebrtc (PacedPacketInfo); here the
 * cluster is registered first (registerCluster) and packets name it by id.
 */
import type { ProbeCluster } from './probe-controller';

export const kMinReceivedProbesRatio = 0.8;
export const kMinReceivedBytesRatio = 0.8;
export const kMaxValidRatio = 2.0;
export const kMinRatioForUnsaturatedLink = 0.9;
export const kTargetUtilizationFraction = 0.95;
export const kMaxClusterHistoryMs = 1000;
export const kMaxProbeIntervalMs = 1000;

export interface ProbePacket {
  probeClusterId: number;
  sendTimeMs: number;
  arrivalTimeMs: number;
  sizeBytes: number;
}

interface AggregatedCluster {
  numProbes: number;
  firstSend: number;
  lastSend: number;
  firstReceive: number;
  lastReceive: number;
  sizeLastSend: number;
  sizeFirstReceive: number;
  sizeTotal: number;
}

export class ProbeBitrateEstimator {
  private readonly clusters = new Map<number, AggregatedCluster>();
  private readonly configs = new Map<number, { minPackets: number; minBytes: number; registeredMs: number }>();
  private estimatedBps: number | null = null;

  /** Make a cluster's min packets / min bytes known (the sender created it at `nowMs`). */
  registerCluster(c: ProbeCluster, nowMs = 0): void {
    this.configs.set(c.id, { minPackets: c.minPackets, minBytes: c.minBytes, registeredMs: nowMs });
    // Forget configs of clusters long gone (their packets would be past kMaxClusterHistory).
    for (const [id, cfg] of this.configs) {
      if (nowMs - cfg.registeredMs > 10 * kMaxClusterHistoryMs && !this.clusters.has(id)) this.configs.delete(id);
    }
  }

  /**
   * One received probe packet (feedback in receive-time order). Returns the cluster's estimate
   * once it has enough packets, else null. Packets of unregistered clusters are ignored.
   */
  handleProbeAndEstimateBitrate(p: ProbePacket): number | null {
    const cfg = this.configs.get(p.probeClusterId);
    if (!cfg) return null;
    this.eraseOldClusters(p.arrivalTimeMs);
    let c = this.clusters.get(p.probeClusterId);
    if (!c) {
      c = {
        numProbes: 0,
        firstSend: Infinity,
        lastSend: -Infinity,
        firstReceive: Infinity,
        lastReceive: -Infinity,
        sizeLastSend: 0,
        sizeFirstReceive: 0,
        sizeTotal: 0,
      };
      this.clusters.set(p.probeClusterId, c);
    }
    if (p.sendTimeMs < c.firstSend) c.firstSend = p.sendTimeMs;
    if (p.sendTimeMs > c.lastSend) {
      c.lastSend = p.sendTimeMs;
      c.sizeLastSend = p.sizeBytes;
    }
    if (p.arrivalTimeMs < c.firstReceive) {
      c.firstReceive = p.arrivalTimeMs;
      c.sizeFirstReceive = p.sizeBytes;
    }
    if (p.arrivalTimeMs > c.lastReceive) c.lastReceive = p.arrivalTimeMs;
    c.sizeTotal += p.sizeBytes;
    c.numProbes += 1;

    // libwebrtc: int min_probes = min_probes * 0.8 (truncated).
    const minProbes = Math.trunc(cfg.minPackets * kMinReceivedProbesRatio);
    const minSize = cfg.minBytes * kMinReceivedBytesRatio;
    if (c.numProbes < minProbes || c.sizeTotal < minSize) return null;

    const sendInterval = c.lastSend - c.firstSend;
    const receiveInterval = c.lastReceive - c.firstReceive;
    if (sendInterval <= 0 || sendInterval > kMaxProbeIntervalMs || receiveInterval <= 0 || receiveInterval > kMaxProbeIntervalMs) {
      return null; // invalid send/receive interval
    }
    // The send interval does not include the time to send the last packet, the receive
    // interval not the time to receive the first: leave those packets' sizes out.
    const sendRate = ((c.sizeTotal - c.sizeLastSend) * 8000) / sendInterval;
    const receiveRate = ((c.sizeTotal - c.sizeFirstReceive) * 8000) / receiveInterval;
    if (receiveRate / sendRate > kMaxValidRatio) return null;

    let res = Math.min(sendRate, receiveRate);
    // Receiving at a significantly lower rate than sending: the link is saturated; aim a bit
    // below the measured capacity so as not to over-use at once.
    if (receiveRate < kMinRatioForUnsaturatedLink * sendRate) res = kTargetUtilizationFraction * receiveRate;
    this.estimatedBps = res;
    return res;
  }

  fetchAndResetLastEstimatedBitrate(): number | null {
    const r = this.estimatedBps;
    this.estimatedBps = null;
    return r;
  }

  private eraseOldClusters(nowMs: number): void {
    for (const [id, c] of this.clusters) {
      if (c.lastReceive + kMaxClusterHistoryMs < nowMs) this.clusters.delete(id);
    }
  }
}
