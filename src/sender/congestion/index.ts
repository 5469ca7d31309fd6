export type { BandwidthUsage, NetworkEstimate, PacketResult, RateController, TransportFeedback } from './types';
export { Gcc, kDefaultPaceMultiplier, type GccOptions, type GccDebugState } from './gcc';
export { FixedRate } from './fixed';
