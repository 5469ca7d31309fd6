export type { BandwidthUsage, NetworkEstimate, PacketResult, RateController, TransportFeedback } from './types';
export { Gcc, kDefaultPaceMultiplier, type GccOptions, type GccDebugState } from './gcc';
export { FixedRate } from './fixed';
export { ProbeController, type ProbeCluster } from './probe-controller';
export { ProbeBitrateEstimator } from './probe-bitrate-estimator';
