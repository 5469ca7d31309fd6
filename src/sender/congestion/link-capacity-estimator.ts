/**
 * Link-capacity estimate used by AIMD to choose between multiplicative and additive
 * increase. Port of libwebrtc modules/congestion_controller/goog_cc/link_capacity_estimator.cc
 * (revision 63e8dd8).
 *
 * On every over-use the acknowledged rate at back-off is averaged in (α = 0.05):
 *   estimate  = (1 − α)·estimate + α·sample
 *   deviation = (1 − α)·deviation + α·(estimate − sample)² / max(estimate, 1)   clamped to [0.4, 2.5]
 *   bounds    = estimate ± 3·sqrt(deviation · estimate)     (all in kbit/s)
 */
export class LinkCapacityEstimator {
  private estimateKbps: number | null = null;
  private deviationKbps = 0.4;

  upperBoundBps(): number {
    if (this.estimateKbps === null) return Infinity;
    return (this.estimateKbps + 3 * this.deviationEstimateKbps()) * 1000;
  }

  lowerBoundBps(): number {
    if (this.estimateKbps === null) return 0;
    return Math.max(0, this.estimateKbps - 3 * this.deviationEstimateKbps()) * 1000;
  }

  reset(): void {
    this.estimateKbps = null;
  }

  onOveruseDetected(acknowledgedRateBps: number): void {
    this.update(acknowledgedRateBps, 0.05);
  }

  onProbeRate(probeRateBps: number): void {
    this.update(probeRateBps, 0.5);
  }

  hasEstimate(): boolean {
    return this.estimateKbps !== null;
  }

  estimateBps(): number {
    if (this.estimateKbps === null) throw new Error('LinkCapacityEstimator: no estimate');
    return this.estimateKbps * 1000;
  }

  private update(sampleBps: number, alpha: number): void {
    const sampleKbps = sampleBps / 1000;
    const est = this.estimateKbps === null ? sampleKbps : (1 - alpha) * this.estimateKbps + alpha * sampleKbps;
    this.estimateKbps = est;
    // Estimate the variance of the link capacity estimate and normalize the variance
    // with the link capacity estimate.
    const norm = Math.max(est, 1.0);
    const errorKbps = est - sampleKbps;
    this.deviationKbps = (1 - alpha) * this.deviationKbps + (alpha * errorKbps * errorKbps) / norm;
    // 0.4 ~= 14 kbit/s at 500 kbit/s, 2.5 ~= 35 kbit/s at 500 kbit/s
    this.deviationKbps = Math.min(Math.max(this.deviationKbps, 0.4), 2.5);
  }

  private deviationEstimateKbps(): number {
    // The max bitrate std dev given the normalized variance and the current throughput.
    return Math.sqrt(this.deviationKbps * (this.estimateKbps ?? 0));
  }
}
