/**
 * `testbed run SPEC --export slurm`: a Slurm job-array script, one cell per array task
 * (`--cell $SLURM_ARRAY_TASK_ID`). Every task rebuilds summary.csv from all finished
 * cells when its cell ends; since two tasks ending together may race on that rebuild, a
 * last job (`--summarize`, after the whole array) rebuilds it once more.
 *
 * `sbatch slurm.sh` submits the array alone; `bash slurm.sh` submits the array and the
 * final summary job with a dependency on it.
 */
import { shellQuote } from './commands';

export interface SlurmOptions {
  experiment: string;
  /** Absolute paths: tasks start in Slurm's working directory, not the user's. */
  root: string;
  spec: string;
  out: string;
  cells: number;
  /** Wall time one cell needs, s (run + set-up + PSNR), before the safety factor. */
  cellSeconds: number;
}

/** Slurm kills a task at its limit: give each cell twice its expected time, at least 10 min. */
export function timeLimit(cellSeconds: number): string {
  const s = Math.max(600, Math.ceil(cellSeconds * 2));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function slurmScript(o: SlurmOptions): string {
  if (o.cells < 1) throw new Error('slurm: an experiment without cells');
  const testbed = `"$NODE" ${shellQuote([`${o.root}/bin/testbed.js`, 'run', o.spec, '--out', o.out])}`;
  const logs = shellQuote([`${o.out}/slurm`]);
  return `#!/bin/bash
# Experiment '${o.experiment}': ${o.cells} cells, one per array task.
#   sbatch slurm.sh   submits the array (then run '${testbed.replace('"$NODE"', 'node')} --summarize' once it is done)
#   bash slurm.sh     submits the array and a final job that rebuilds summary.csv after it
# Each task needs root (or CAP_NET_ADMIN) on its node for the network namespaces and tc,
# and two cores: the sender and the receiver run in real time.
#SBATCH --job-name=testbed-${o.experiment}
#SBATCH --array=0-${o.cells - 1}
#SBATCH --cpus-per-task=2
#SBATCH --time=${timeLimit(o.cellSeconds)}
#SBATCH --output=${o.out}/slurm/%A_%a.log
set -euo pipefail
NODE=\${NODE:-node}
cd ${shellQuote([o.root])}

if [[ -z \${SLURM_ARRAY_TASK_ID:-} ]]; then
  mkdir -p ${logs}
  jid=$(sbatch --parsable "$0")
  sbatch --dependency=afterany:"$jid" --job-name=testbed-${o.experiment}-summary --output=${logs}/summary.log \\
    --wrap "cd ${shellQuote([o.root])} && ${testbed.replace(/"/g, '\\"')} --summarize"
  echo "submitted array job $jid (${o.cells} cells) and the summary job after it"
  exit 0
fi

exec ${testbed} --cell "$SLURM_ARRAY_TASK_ID"
`;
}
