import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ProbeController } from '../../../src/sender/congestion/probe-controller';
import { ProbeBitrateEstimator } from '../../../src/sender/congestion/probe-bitrate-estimator';

describe('ProbeController (probe_controller.cc)', () => {
  it('initial exponential probing at 3× and 6× the start rate, 5 packets / 15 ms of bytes', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    const c = pc.takeClusters(0);
    assert.deepEqual(c.map((x) => x.targetBps), [900_000, 1_800_000]);
    assert.deepEqual(c.map((x) => x.minPackets), [5, 5]);
    assert.deepEqual(c.map((x) => x.minBytes), [(900_000 * 15) / 8000, (1_800_000 * 15) / 8000]);
    assert.notEqual(c[0]!.id, c[1]!.id);
    assert.deepEqual(pc.takeClusters(10), []);
  });

  it('initial probes are limited by the max bitrate', () => {
    const pc = new ProbeController({ startBps: 1_000_000, maxBps: 4_000_000 });
    assert.deepEqual(pc.takeClusters(0).map((x) => x.targetBps), [3_000_000, 4_000_000]);
    assert.equal(pc.waitingForResult, false); // capped → no further probing
    pc.onProbeResult(4_000_000, 100);
    assert.deepEqual(pc.takeClusters(100), []);
  });

  it('repeated exponential probing at 2× the result while results exceed 0.7 × the last target', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.onProbeResult(1_200_000, 200); // < 0.7 × 1.8 M = 1.26 M: no further probe
    assert.deepEqual(pc.takeClusters(200), []);
    pc.onProbeResult(1_700_000, 250); // > 1.26 M
    assert.deepEqual(pc.takeClusters(250).map((x) => x.targetBps), [3_400_000]);
    pc.onProbeResult(3_000_000, 500); // > 0.7 × 3.4 M
    assert.deepEqual(pc.takeClusters(500).map((x) => x.targetBps), [6_000_000]);
    pc.onProbeResult(4_000_000, 700); // < 0.7 × 6 M: done
    assert.deepEqual(pc.takeClusters(700), []);
  });

  it('no probes past the max bitrate', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 2_000_000 });
    assert.deepEqual(pc.takeClusters(0).map((x) => x.targetBps), [900_000, 1_800_000]);
    pc.onProbeResult(1_800_000, 200);
    assert.deepEqual(pc.takeClusters(200).map((x) => x.targetBps), [2_000_000]); // 3.6 M capped
    pc.onProbeResult(2_000_000, 400);
    assert.deepEqual(pc.takeClusters(400), []);
  });

  it('waits at most 1 s for a result', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.takeClusters(1001);
    pc.onProbeResult(1_700_000, 1001);
    assert.deepEqual(pc.takeClusters(1002), []);
  });

  it('periodic ALR probing every 5 s at 2 × the estimate', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.onEstimate(1_000_000, 500);
    pc.takeClusters(2000); // waiting times out
    pc.onAlr(true, 3000);
    assert.deepEqual(pc.takeClusters(7999), []);
    assert.deepEqual(pc.takeClusters(8000).map((x) => x.targetBps), [2_000_000]);
    pc.takeClusters(9100); // no result: waiting ends
    assert.deepEqual(pc.takeClusters(12_999), []);
    assert.deepEqual(pc.takeClusters(13_000).map((x) => x.targetBps), [2_000_000]);
    pc.takeClusters(14_100);
    pc.onAlr(false, 15_000);
    assert.deepEqual(pc.takeClusters(20_000), []);
  });

  it('no periodic probing outside ALR or when disabled', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000, periodicAlrProbing: false });
    pc.takeClusters(0);
    pc.onAlr(true, 1000);
    assert.deepEqual(pc.takeClusters(10_000), []);
  });

  it('periodic probing outside ALR (our addition): every interval after the last probe and back-off, only while the detector is normal', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000, periodicProbeIntervalMs: 5000 });
    pc.takeClusters(0);
    pc.onEstimate(1_000_000, 500);
    assert.deepEqual(pc.takeClusters(2000), []); // waiting for the initial probes times out
    assert.deepEqual(pc.takeClusters(4999), []);
    assert.deepEqual(pc.takeClusters(5000).map((x) => x.targetBps), [2_000_000]);
    pc.onProbeResult(1_900_000, 5100); // > 0.7 × 2 M: probe further, as ALR probes do
    assert.deepEqual(pc.takeClusters(5100).map((x) => x.targetBps), [3_800_000]);
    pc.takeClusters(6200); // no further result: probing complete
    pc.onDelayDetector('overusing', 10_050);
    assert.deepEqual(pc.takeClusters(10_100), []);
    pc.onDelayDetector('underusing', 10_050); // the queue drains
    assert.deepEqual(pc.takeClusters(12_000), []);
    pc.onDelayDetector('normal', 10_050);
    assert.deepEqual(pc.takeClusters(15_049), [], 'one interval after the back-off at 10.05 s');
    assert.deepEqual(pc.takeClusters(15_050).map((x) => x.targetBps), [2_000_000]);
  });

  it('no periodic probing outside ALR by default (libwebrtc)', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.onEstimate(1_000_000, 500);
    for (let t = 2000; t <= 60_000; t += 1000) assert.deepEqual(pc.takeClusters(t), []);
  });

  it('after a large drop, a probe at 0.85 × the pre-drop estimate once the detector recovers', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.onEstimate(2_000_000, 500);
    pc.takeClusters(2000);
    pc.onEstimate(1_000_000, 30_000); // < 0.66 × 2 M: large drop
    pc.onRecoveredFromOveruse(31_000);
    assert.deepEqual(pc.takeClusters(31_000).map((x) => x.targetBps), [1_700_000]);
    // At most one per kMinTimeBetweenAlrProbesMs; none 5 s or more after the drop.
    pc.onRecoveredFromOveruse(32_000);
    assert.deepEqual(pc.takeClusters(32_000), []);
    pc.onEstimate(600_000, 40_000);
    pc.onRecoveredFromOveruse(45_001);
    assert.deepEqual(pc.takeClusters(45_001), []);
  });

  it('drop probing needs ALR (or ALR ended < 3 s ago) without rapid recovery', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000, rapidRecovery: false });
    pc.takeClusters(0);
    pc.onEstimate(2_000_000, 500);
    pc.takeClusters(2000);
    pc.onEstimate(1_000_000, 30_000);
    pc.onRecoveredFromOveruse(31_000);
    assert.deepEqual(pc.takeClusters(31_000), []);
    pc.onAlr(true, 31_500);
    pc.onAlr(false, 32_000);
    pc.onRecoveredFromOveruse(33_000);
    assert.deepEqual(pc.takeClusters(33_000).map((x) => x.targetBps), [1_700_000]);
  });

  it('a small decrease is not a large drop', () => {
    const pc = new ProbeController({ startBps: 300_000, maxBps: 10_000_000 });
    pc.takeClusters(0);
    pc.onEstimate(2_000_000, 500);
    pc.takeClusters(2000);
    pc.onEstimate(1_400_000, 30_000); // 0.7 × — above kBitrateDropThreshold
    pc.onRecoveredFromOveruse(31_000);
    assert.deepEqual(pc.takeClusters(31_000), []);
  });
});

describe('ProbeBitrateEstimator (probe_bitrate_estimator.cc)', () => {
  const cluster = { id: 7, targetBps: 2_000_000, minPackets: 5, minBytes: 3750 };
  /** n packets of `size` sent every sendGap ms, received every recvGap ms from t = 100. */
  function feed(est: ProbeBitrateEstimator, n: number, size: number, sendGap: number, recvGap: number): (number | null)[] {
    const out: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      out.push(est.handleProbeAndEstimateBitrate({ probeClusterId: 7, sendTimeMs: i * sendGap, arrivalTimeMs: 100 + i * recvGap, sizeBytes: size }));
    }
    return out;
  }

  it('unsaturated link: min(send, receive)', () => {
    const est = new ProbeBitrateEstimator();
    est.registerCluster(cluster);
    // 1000-byte packets every 4 ms sent (2 Mbit/s), received every 4.2 ms (≈ 1.905 Mbit/s ≥ 0.9 × send).
    const r = feed(est, 5, 1000, 4, 4.2);
    const last = r[r.length - 1]!;
    assert.ok(last !== null);
    assert.ok(Math.abs(last - (4000 * 8000) / 16.8) < 1e-6); // receive rate: 4 packets / 16.8 ms
    assert.equal(est.fetchAndResetLastEstimatedBitrate(), last);
    assert.equal(est.fetchAndResetLastEstimatedBitrate(), null);
  });

  it('receive faster than send: the send rate', () => {
    const est = new ProbeBitrateEstimator();
    est.registerCluster(cluster);
    const r = feed(est, 5, 1000, 4, 3.9);
    assert.ok(Math.abs(r[4]! - (4000 * 8000) / 16) < 1e-6);
  });

  it('saturated link: 0.95 × the receive rate', () => {
    const est = new ProbeBitrateEstimator();
    est.registerCluster(cluster);
    // Sent at 2 Mbit/s, received every 8 ms (1 Mbit/s < 0.9 × 2).
    const r = feed(est, 5, 1000, 4, 8);
    assert.ok(Math.abs(r[4]! - 0.95 * ((4000 * 8000) / 32)) < 1e-6);
  });

  it('too few packets or bytes: no estimate', () => {
    const est = new ProbeBitrateEstimator();
    est.registerCluster(cluster);
    // 3 packets < trunc(0.8 × 5) = 4.
    assert.deepEqual(feed(est, 3, 1500, 4, 4), [null, null, null]);
    assert.equal(est.fetchAndResetLastEstimatedBitrate(), null);
    const est2 = new ProbeBitrateEstimator();
    est2.registerCluster(cluster);
    // 5 packets of 500 B = 2500 B < 0.8 × 3750 = 3000 B.
    assert.deepEqual(feed(est2, 5, 500, 4, 4), [null, null, null, null, null]);
    // The 4th packet of 1000 B reaches both minima (4 packets, 4000 B ≥ 3000 B).
    const est3 = new ProbeBitrateEstimator();
    est3.registerCluster(cluster);
    const r3 = feed(est3, 4, 1000, 4, 4);
    assert.equal(r3[2], null);
    assert.ok(r3[3] !== null);
  });

  it('invalid intervals (> 1 s or ≤ 0) and unknown clusters: no estimate', () => {
    const est = new ProbeBitrateEstimator();
    est.registerCluster(cluster);
    assert.equal(feed(est, 5, 1000, 300, 4)[4], null); // send interval 1.2 s
    const est2 = new ProbeBitrateEstimator();
    est2.registerCluster(cluster);
    assert.equal(feed(est2, 5, 1000, 4, 0)[4], null); // receive interval 0
    const est3 = new ProbeBitrateEstimator();
    assert.equal(feed(est3, 5, 1000, 4, 4)[4], null);
  });
});
