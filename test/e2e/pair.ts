/** Both peers as two processes (src/experiments/processes.ts), for the end-to-end tests. */
export { ensureClip, ROOT, runPair, runPairShaped, tempDir, type ProcResult } from '../../src/experiments/processes';
