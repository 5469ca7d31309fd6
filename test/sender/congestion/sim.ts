/**
 * Test helpers on simulated time: synthetic packet trains with hand-chosen one-way delays,
 * and a tiny bottleneck model (a drop-tail FIFO served at a time-varying capacity).
 */
import type { NetworkEstimate, PacketResult, RateController, TransportFeedback } from '../../../src/sender/congestion/types';

export interface SyntheticPacket {
  seq: number;
  sendTimeMs: number;
  sizeBytes: number;
  arrivalTimeMs: number | null;
}

/**
 * Groups of packets: group k is sent at k·groupIntervalMs (+ i ms for its i-th packet) and
 * every packet of the group sees one-way delay owd(k).
 */
export function packetTrain(opts: {
  groups: number;
  groupIntervalMs: number;
  packetsPerGroup: number;
  sizeBytes: number;
  owd: (group: number) => number;
  t0?: number;
}): SyntheticPacket[] {
  const out: SyntheticPacket[] = [];
  const t0 = opts.t0 ?? 0;
  let seq = 0;
  for (let k = 0; k < opts.groups; k++) {
    for (let i = 0; i < opts.packetsPerGroup; i++) {
      const send = t0 + k * opts.groupIntervalMs + i;
      out.push({ seq: seq++, sendTimeMs: send, sizeBytes: opts.sizeBytes, arrivalTimeMs: send + opts.owd(k) });
    }
  }
  return out;
}

/**
 * Cuts a packet list into transport feedback sent every `intervalMs` by the receiver
 * (receiver time T = intervalMs, 2·intervalMs, …): each reports, in seq order, the packets up
 * to the highest seq received by T that earlier feedback did not cover; it reaches the sender
 * `returnDelayMs` later.
 */
export function feedbackEvery(packets: readonly SyntheticPacket[], intervalMs: number, returnDelayMs: number): TransportFeedback[] {
  const out: TransportFeedback[] = [];
  const lastArrival = Math.max(...packets.map((p) => p.arrivalTimeMs ?? -Infinity));
  let next = 0; // index of the first packet not yet reported
  for (let T = intervalMs; next < packets.length && T <= lastArrival + intervalMs; T += intervalMs) {
    let highest = -1;
    for (let i = next; i < packets.length; i++) {
      const a = packets[i]!.arrivalTimeMs;
      if (a !== null && a <= T) highest = i;
    }
    if (highest < next) continue;
    const reported: PacketResult[] = packets.slice(next, highest + 1).map((p) => ({
      transportSeq: p.seq,
      sendTimeMs: p.sendTimeMs,
      sizeBytes: p.sizeBytes,
      arrivalTimeMs: p.arrivalTimeMs !== null && p.arrivalTimeMs <= T ? p.arrivalTimeMs : null,
    }));
    out.push({ feedbackArrivalMs: T + returnDelayMs, packets: reported });
    next = highest + 1;
  }
  return out;
}

export interface BottleneckSample {
  tMs: number;
  capacityBps: number;
  estimate: NetworkEstimate;
  /** Queueing delay a packet entering the FIFO now would see, ms. */
  queueDelayMs: number;
  /** Bits that left the FIFO since the previous sample / sample interval (bit/s). */
  deliveredBps: number;
  /** Encoder mode: bytes waiting in the sender's pacer queue. */
  pacerQueueBytes: number;
}

export interface BottleneckResult {
  samples: BottleneckSample[];
  sent: number;
  lost: number;
  /** Padding bytes sent in probe clusters. */
  probeBytesSent: number;
}

/** goog_cc kDefaultPaceMultiplier: the pacer drains at 2.5 × the target. */
const kPaceMultiplier = 2.5;

/**
 * A sender at the controller's target (optionally capped: `sendRateBps`) through one drop-tail
 * FIFO of `capacityBps(t)`:
 * - every `tickMs` the sender releases whole packets of `packetBytes` for the target rate
 *   (a byte budget, like a pacer's 5 ms bursts), reporting each to onSentPacket;
 * - the FIFO serialises each packet at the capacity at its start of service; a packet that
 *   would find more than `queueBytes` waiting is dropped;
 * - propagation `propagationMs` each way;
 * - the receiver sends transport feedback every `feedbackIntervalMs` (reporting, in seq
 *   order, everything up to the highest seq received, unreceived = lost), arriving
 *   `propagationMs` later; once a second the sender is told the RTT of the newest reported
 *   packet (2·propagation + its queueing delay).
 * Options beyond that:
 * - `probing`: every tick the sender asks the controller for probe clusters
 *   (`takeProbeClusters`) and sends each, one after the other, as `packetBytes` padding packets
 *   paced exactly at the cluster's rate (send times between ticks, like libwebrtc's
 *   BitrateProber: at least minPackets packets and minBytes bytes) through the same FIFO,
 *   tagged with the cluster id in the feedback; media waits while a cluster is being sent.
 * - `encoder`: instead of a full-buffer sender at the target, an encoder emits a frame every
 *   1000/fps ms (`frameBytes(target, frameIndex)`) into a pacer queue drained at
 *   kDefaultPaceMultiplier 2.5 × the target — an application-limited, bursty sender.
 */
export function runBottleneck(opts: {
  cc: RateController;
  durationMs: number;
  capacityBps: (tMs: number) => number;
  propagationMs?: number;
  queueBytes?: number;
  packetBytes?: number;
  tickMs?: number;
  feedbackIntervalMs?: number;
  sampleIntervalMs?: number;
  sendRateBps?: (targetBps: number, tMs: number) => number;
  probing?: boolean;
  encoder?: { fps: number; frameBytes: (targetBps: number, frameIndex: number) => number };
}): BottleneckResult {
  const cc = opts.cc;
  const prop = opts.propagationMs ?? 20;
  const queueBytes = opts.queueBytes ?? 100_000;
  const packetBytes = opts.packetBytes ?? 1200;
  const tick = opts.tickMs ?? 5;
  const fbInterval = opts.feedbackIntervalMs ?? 100;
  const sampleInterval = opts.sampleIntervalMs ?? 100;

  interface Pkt {
    seq: number;
    send: number;
    size: number;
    depart: number | null; // leaves the FIFO (null = dropped)
    probeClusterId?: number;
  }
  const pkts: Pkt[] = [];
  let linkFreeAt = 0;
  const inQueue: Pkt[] = []; // admitted, not yet departed (FIFO order)
  let queuedBytes = 0;
  let budgetBytes = 0;
  let reportedUpTo = 0; // index of first packet not yet reported
  const pendingFeedback: TransportFeedback[] = [];
  let nextFeedbackT = fbInterval;
  let nextRttT = 0;
  let lastRtt: number | null = null;
  const samples: BottleneckSample[] = [];
  let nextSampleT = 0;
  let deliveredBits = 0;
  let lost = 0;
  // Probing: packets still to send, each with its exact send time.
  const probeQueue: Array<{ at: number; clusterId: number; size: number }> = [];
  let probeFreeAt = 0;
  // Encoder + pacer (encoder mode).
  let frameIndex = 0;
  let pacerQueueBytes = 0;
  let pacerBudget = 0;
  let probeBytesSent = 0;

  const sendPacket = (ts: number, size: number, probeClusterId?: number) => {
    const p: Pkt = { seq: pkts.length, send: ts, size, depart: null };
    if (probeClusterId !== undefined) p.probeClusterId = probeClusterId;
    pkts.push(p);
    cc.onSentPacket?.({ transportSeq: p.seq, sendTimeMs: ts, sizeBytes: size });
    if (queuedBytes + size > queueBytes) {
      lost++;
      return; // drop-tail
    }
    const start = Math.max(ts, linkFreeAt);
    p.depart = start + (size * 8 * 1000) / opts.capacityBps(start);
    linkFreeAt = p.depart;
    inQueue.push(p);
    queuedBytes += size;
  };

  const drainQueue = (t: number) => {
    while (inQueue.length > 0 && inQueue[0]!.depart! <= t) {
      const p = inQueue.shift()!;
      queuedBytes -= p.size;
      deliveredBits += p.size * 8;
    }
  };

  for (let t = 0; t <= opts.durationMs; t += tick) {
    // Deliver feedback that has reached the sender.
    while (pendingFeedback.length > 0 && pendingFeedback[0]!.feedbackArrivalMs <= t) {
      cc.onTransportFeedback(pendingFeedback.shift()!);
    }
    if (t >= nextRttT && lastRtt !== null) {
      cc.onRtt(lastRtt, t);
      nextRttT = t + 1000;
    }

    // Prober: new clusters are sent after any still in progress, packets at the cluster rate.
    if (opts.probing && cc.takeProbeClusters) {
      for (const c of cc.takeProbeClusters(t)) {
        const n = Math.max(c.minPackets, Math.ceil(c.minBytes / packetBytes));
        const interval = (packetBytes * 8000) / c.targetBps;
        const t0 = Math.max(t, probeFreeAt);
        for (let i = 0; i < n; i++) probeQueue.push({ at: t0 + i * interval, clusterId: c.id, size: packetBytes });
        probeFreeAt = t0 + n * interval;
      }
    }
    drainQueue(t);
    let probing = false;
    while (probeQueue.length > 0 && probeQueue[0]!.at <= t) {
      const q = probeQueue.shift()!;
      sendPacket(q.at, q.size, q.clusterId);
      probeBytesSent += q.size;
      probing = true;
    }
    if (probeQueue.length > 0) probing = true;

    // Sender: release the target's bytes for this tick (media waits while probing).
    const target = cc.estimate(t).targetBps;
    if (opts.encoder) {
      const frameMs = 1000 / opts.encoder.fps;
      while (frameIndex * frameMs <= t) {
        pacerQueueBytes += opts.encoder.frameBytes(target, frameIndex);
        frameIndex++;
      }
      if (!probing) {
        pacerBudget = Math.min(pacerBudget + (kPaceMultiplier * target * tick) / 8000, (kPaceMultiplier * target * tick) / 8000);
        while (pacerBudget > 0 && pacerQueueBytes > 0) {
          const size = Math.min(packetBytes, pacerQueueBytes);
          pacerQueueBytes -= size;
          pacerBudget -= size;
          sendPacket(t, size);
        }
      }
    } else if (!probing) {
      const rate = opts.sendRateBps ? opts.sendRateBps(target, t) : target;
      budgetBytes = Math.min(budgetBytes + (rate * tick) / 8000, 4 * packetBytes);
      while (budgetBytes >= packetBytes) {
        budgetBytes -= packetBytes;
        sendPacket(t, packetBytes);
      }
    }

    // Receiver: feedback every fbInterval (receiver time = arrival = depart + prop).
    if (t >= nextFeedbackT) {
      const T = nextFeedbackT;
      nextFeedbackT += fbInterval;
      let highest = -1;
      for (let i = reportedUpTo; i < pkts.length; i++) {
        const d = pkts[i]!.depart;
        if (d !== null && d + prop <= T) highest = i;
      }
      if (highest >= reportedUpTo) {
        const reported: PacketResult[] = [];
        for (let i = reportedUpTo; i <= highest; i++) {
          const p = pkts[i]!;
          const r: PacketResult = {
            transportSeq: p.seq,
            sendTimeMs: p.send,
            sizeBytes: p.size,
            arrivalTimeMs: p.depart === null ? null : p.depart + prop,
          };
          if (p.probeClusterId !== undefined) r.probeClusterId = p.probeClusterId;
          reported.push(r);
        }
        const newest = pkts[highest]!;
        lastRtt = newest.depart! + prop - newest.send + prop;
        pendingFeedback.push({ feedbackArrivalMs: T + prop, packets: reported });
        reportedUpTo = highest + 1;
      }
    }

    if (t >= nextSampleT) {
      samples.push({
        tMs: t,
        capacityBps: opts.capacityBps(t),
        // The decision and, for controllers that have them, the diagnostics (fixed: none).
        estimate: { delayGradient: 0, threshold: 0, detector: 'normal', lossFraction: 0, ackedBps: null, rttMs: null, ...cc.diagnostics?.(t), ...cc.estimate(t) },
        queueDelayMs: Math.max(0, linkFreeAt - t),
        pacerQueueBytes,
        deliveredBps: (deliveredBits * 1000) / sampleInterval,
      });
      deliveredBits = 0;
      nextSampleT += sampleInterval;
    }
  }
  return { samples, sent: pkts.length, lost, probeBytesSent };
}

/** Samples with tMs in [fromMs, toMs). */
export function between(samples: readonly BottleneckSample[], fromMs: number, toMs: number): BottleneckSample[] {
  return samples.filter((s) => s.tMs >= fromMs && s.tMs < toMs);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
