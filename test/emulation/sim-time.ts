/** Simulated time for schedule tests: the project's own (src/sim/sim-time.ts). */
export { SimTime } from '../../src/sim/sim-time';
