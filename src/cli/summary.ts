/** `testbed summary DIR`: latency percentiles of a run, and PSNR when the recording is given. */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { readCsv } from '../metrics/csv';
import { formatSummary, summarizeFrames } from '../metrics/summary';
import { measureQuality } from '../media/quality';
import { UsageError } from './session';

export function addSummaryCommand(program: Command): void {
  program
    .command('summary')
    .description('print p50/p95/p99 of e2e and of each latency component from a run directory (frames.csv)')
    .argument('<dir>', 'run directory holding frames.csv')
    .option('--reference <file>', 'source clip: with --recorded, also report PSNR of the rendered pictures')
    .option('--recorded <file>', "the answer's --record-to file")
    .option('--json', 'print JSON instead of a table', false)
    .action(async (dir: string, o: { reference?: string; recorded?: string; json: boolean }) => {
      const framesCsv = join(dir, 'frames.csv');
      if (!existsSync(framesCsv)) throw new UsageError(`no frames.csv in ${dir} (run 'testbed join' first?)`);
      const rows = readCsv(framesCsv);
      const summary = summarizeFrames(rows);
      let quality: { meanPsnr: number; minPsnr: number; frames: number } | null = null;
      if (o.reference && o.recorded) {
        const rendered = rows.filter((r) => r.rendered === '1').sort((a, b) => Number(a.render_ms) - Number(b.render_ms));
        const q = await measureQuality(o.recorded, o.reference, rendered.map((r) => Number(r.source_index)));
        quality = { meanPsnr: q.meanPsnr, minPsnr: q.minPsnr, frames: q.frames.length };
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ ...summary, quality }, null, 2) + '\n');
        return;
      }
      process.stdout.write(formatSummary(summary) + '\n');
      if (quality) {
        process.stdout.write(
          `PSNR of the recording vs the source: mean ${quality.meanPsnr.toFixed(2)} dB, min ${quality.minPsnr.toFixed(2)} dB over ${quality.frames} pictures\n`,
        );
      }
    });
}
