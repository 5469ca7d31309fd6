/**
 * One cell, start to end: a fresh cell directory, the link (or loopback), both peers,
 * the trace replay and link monitor from trace time 0, then the teardown and the cell's
 * meta.json and summary.json. A cell never throws: whatever goes wrong is recorded as
 * its incomplete_reason, so the experiment goes on with the next cell.
 *
 * Trace time 0 (T) is fixed before the peers start, STREAM_LEAD_MS after their launch —
 * about when the offer starts streaming (start-up, signaling, ICE and DTLS) — because the
 * oracle arm must be told T on its command line. Until T the link holds the trace's first
 * sample, which is also what the oracle reads for times before T, so link and oracle
 * agree at every moment. meta.json records T and the first capture, so the offset is
 * known for each cell.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '../clock';
import { formatTrace } from '../emulation/traces/format';
import type { Trace } from '../emulation/traces/types';
import type { ClipAnalysis } from '../media/clip-analysis';
import { measureQuality } from '../media/quality';
import { CsvWriter, readCsv } from '../metrics/csv';
import { QUALITY_COLUMNS, type QualityRow } from '../metrics/rows';
import { joinRun } from '../metrics/join';
import { readMeta } from '../metrics/run-meta';
import { starvationOf, starvationWarning } from '../metrics/starvation';
import { renderOrder, summarizeCell } from './cell-summary';
import { peerCommands, RECORDING_FILE, shellQuote, traceFileOf, type Endpoints } from './commands';
import { environmentVersions } from './environment';
import { bringUpLink, type CellLink } from './link';
import type { Features } from '../emulation/netns';
import type { Cell } from './matrix';
import { PeerProcess, waitForExitSync } from './peers';
import { cellDir, cellIdentity, type CellMeta, type CellSummaryFile } from './results';
import type { ExperimentSpec } from './spec';

/**
 * Launch → first capture: node start-up, clip open, signaling, ICE, DTLS. Measured here
 * over namespaces (test/experiments/run-e2e.test.ts prints it per cell): 0.8–1.7 s, up to
 * 2.6 s under heavy load.
 */
export const STREAM_LEAD_MS = 1500;
/** Replayed trace = warm-up + duration + this margin (draining, the last RTCP, teardown). */
export const TRACE_MARGIN_S = 30;
/** A cell's peers get media time + this long to finish before they are interrupted. */
export const CELL_GRACE_S = 90;
/** After SIGINT, how long peers get to flush before SIGKILL. */
const FLUSH_MS = 10_000;
/** The offerer's signaling port inside a cell's own namespace (nothing else listens there). */
const NAMESPACE_PORT = 4000;

export interface PreparedTrace {
  trace: Trace;
  notEmulated: string[];
}

export interface CellContext {
  spec: ExperimentSpec;
  cell: Cell;
  outDir: string;
  /** The cell's trace, transformed (null for an unshaped run). */
  prepared: PreparedTrace | null;
  /** What the kernel offers (null when no cell of the run is shaped). */
  features: Features | null;
  clock: Clock;
  node: string;
  bin: string;
  /** The cell's clip, measured once for the run (null when it could not be: the reason is logged). */
  clipAnalysis: ClipAnalysis | null;
}

export interface CellOutcome {
  complete: boolean;
  reason: string | null;
  /** One line for the progress log. */
  note: string;
}

export function traceRunSeconds(spec: Pick<ExperimentSpec, 'warmupS' | 'durationS'>): number {
  return spec.warmupS + spec.durationS + TRACE_MARGIN_S;
}

/** Wall time a cell takes, estimated before any has run (ETA, Slurm time limit). */
export function estimateCellSeconds(spec: Pick<ExperimentSpec, 'warmupS' | 'durationS' | 'psnr'>): number {
  const media = spec.warmupS + spec.durationS;
  // Set-up and teardown ~5 s; PSNR decodes recording and clip again, ~0.3 × real time here.
  return STREAM_LEAD_MS / 1000 + media + 5 + (spec.psnr ? 0.3 * media : 0);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export class CellRun {
  private peers: PeerProcess[] = [];
  private stopReason: string | null = null;
  private wakeUp: () => void = () => {};

  constructor(private readonly ctx: CellContext) {}

  /**
   * SIGINT/SIGTERM: one SIGINT to each peer, then wait (blocking) until they have
   * flushed and exited — before any other handler tears the link down under them.
   */
  interruptNow(reason: string): void {
    this.stopReason ??= reason;
    for (const p of this.peers) p.signal('SIGINT');
    waitForExitSync(this.peers, FLUSH_MS, () => this.ctx.clock.now());
    this.wakeUp();
  }

  /** The runner is exiting (an error, a second Ctrl-C): leave no peer behind. */
  killNow(): void {
    for (const p of this.peers) p.signal('SIGKILL');
  }

  async run(): Promise<CellOutcome> {
    const { spec, cell, clock } = this.ctx;
    const dir = cellDir(this.ctx.outDir, cell);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const meta = this.initialMeta();
    const writeMeta = () => writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    writeMeta();

    let link: CellLink | null = null;
    let failure: string | null = null;
    try {
      const prepared = this.ctx.prepared;
      if (prepared) {
        writeFileSync(traceFileOf(dir), formatTrace(prepared.trace));
        link = await bringUpLink(prepared.trace, spec.link, prepared.notEmulated, join(dir, 'link.csv'), clock, this.ctx.features!);
        meta.link = { ...link.describe(), features: { ...this.ctx.features }, not_emulated: prepared.notEmulated };
      }
      const ep: Endpoints = link
        ? { offerAddr: link.addrA, answerAddr: link.addrB, port: NAMESPACE_PORT, offerPrefix: link.prefix('a'), answerPrefix: link.prefix('b') }
        : { offerAddr: '127.0.0.1', answerAddr: '127.0.0.1', port: await freePort(), offerPrefix: [], answerPrefix: [] };
      const traceStartMs = Math.round((clock.now() + STREAM_LEAD_MS) * 1000) / 1000;
      const cmds = peerCommands(
        cell,
        {
          node: this.ctx.node,
          bin: this.ctx.bin,
          cellDir: dir,
          clip: cell.clip.file,
          mediaS: spec.warmupS + spec.durationS,
          trace: link ? { file: traceFileOf(dir), startMs: traceStartMs } : null,
          recordTo: spec.psnr ? join(dir, RECORDING_FILE) : null,
        },
        ep,
      );
      meta.commands = cmds;
      meta.timing.trace_start_ms = link ? traceStartMs : null;
      writeMeta();
      // Interrupted while the link came up: start nothing.
      if (this.stopReason) throw new Error(this.stopReason);

      // The answerer first: it retries until the offerer listens.
      const start = (role: 'offer' | 'answer', argv: string[], prefixLen: number, side: 'a' | 'b') => {
        const [cmd, ...args] = argv.slice(prefixLen);
        const p = PeerProcess.start(role, cmd, args, join(dir, `${role}.log`), link?.spawner(side));
        this.peers.push(p);
        return p;
      };
      meta.timing.peers_started_ms = clock.now();
      const answer = start('answer', cmds.answer, ep.answerPrefix.length, 'b');
      const offer = start('offer', cmds.offer, ep.offerPrefix.length, 'a');
      // Replay and monitor wait for T themselves (drift-free schedules from T).
      link?.start(traceStartMs);

      await this.waitForPeers(spec.warmupS + spec.durationS + CELL_GRACE_S);
      meta.peers = {
        offer: { exit_code: offer.exit?.code ?? null, signal: offer.exit?.signal ?? null, last_line: offer.lastLine() },
        answer: { exit_code: answer.exit?.code ?? null, signal: answer.exit?.signal ?? null, last_line: answer.lastLine() },
      };
      if (link) meta.replay = await link.stop();
    } catch (e) {
      failure = (e as Error).message.split('\n')[0];
    } finally {
      for (const p of this.peers) p.signal('SIGKILL');
      await link?.down();
    }

    // Figures from whatever was written, complete or not.
    let summary: { file: CellSummaryFile; note: string } | null = null;
    try {
      summary = await this.summarize(dir, meta);
    } catch (e) {
      failure ??= `summary: ${(e as Error).message.split('\n')[0]}`;
    }

    meta.timing.ended_ms = clock.now();
    meta.ended_at = new Date().toISOString();
    const reason = incompleteReason({ stopReason: this.stopReason, failure, peers: meta.peers, measured: summary !== null });
    meta.complete = reason === null;
    meta.incomplete_reason = reason;
    // summary.json carries the cell's final state, so summary.csv can be rebuilt from it alone.
    if (summary) {
      const row = { ...summary.file.row, complete: meta.complete ? (1 as const) : (0 as const), incomplete_reason: reason ?? '' };
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary.file, complete: meta.complete, row }, null, 2) + '\n');
    }
    writeMeta();
    return { complete: meta.complete, reason, note: reason ?? summary?.note ?? '' };
  }

  /** Until both peers exit; past the deadline they get SIGINT, and SIGKILL if they do not flush. */
  private async waitForPeers(deadlineS: number): Promise<void> {
    const both = Promise.all(this.peers.map((p) => p.exited));
    const timedOut = await Promise.race([
      both.then(() => false),
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), deadlineS * 1000);
        // An interrupt has already made the peers exit (interruptNow): stop waiting for the deadline.
        this.wakeUp = () => {
          clearTimeout(t);
          resolve(false);
        };
        void both.then(() => clearTimeout(t));
      }),
    ]);
    if (timedOut) {
      this.stopReason ??= `timed out: the peers were still running ${deadlineS} s after the start`;
      for (const p of this.peers) p.signal('SIGINT');
      const flushed = await Promise.race([both.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), FLUSH_MS))]);
      if (!flushed) for (const p of this.peers) p.signal('SIGKILL');
    }
    await both;
  }

  private initialMeta(): CellMeta {
    const { spec, cell, clock } = this.ctx;
    const t = this.ctx.prepared?.trace;
    return {
      ...cellIdentity(spec, cell),
      clip_analysis: this.ctx.clipAnalysis,
      starvation: null,
      trace:
        cell.trace.kind === 'trace' && t
          ? { label: cell.trace.label, ref: cell.trace.trace, family: t.family, transforms: { ...cell.trace.transforms }, file: 'trace.trace', source: t.source }
          : null,
      commands: { offer: [], answer: [] },
      versions: environmentVersions(),
      link: null,
      replay: null,
      timing: { started_ms: clock.now(), peers_started_ms: null, trace_start_ms: null, stream_start_ms: null, ended_ms: null },
      peers: {
        offer: { exit_code: null, signal: null, last_line: '' },
        answer: { exit_code: null, signal: null, last_line: '' },
      },
      started_at: new Date().toISOString(),
      ended_at: null,
      complete: false,
      incomplete_reason: 'running (or its runner died)',
    };
  }

  /** Joins the two sides if the peers did not, then computes summary.json's content and a one-line note. */
  private async summarize(dir: string, meta: CellMeta): Promise<{ file: CellSummaryFile; note: string } | null> {
    const { spec, cell } = this.ctx;
    const framesCsv = join(dir, 'frames.csv');
    if (!existsSync(framesCsv) && existsSync(join(dir, 'sender-frames.csv')) && existsSync(join(dir, 'receiver-frames.csv'))) {
      joinRun(dir, dir);
    }
    if (!existsSync(framesCsv)) return null;
    const frames = readCsv(framesCsv);
    // The peers' own CPU starvation counts: into meta.json, summary.csv and the progress note.
    const counts = { ...starvationOf(readMeta(dir, 'sender')?.counters), ...starvationOf(readMeta(dir, 'receiver')?.counters) };
    meta.starvation = { counts, warning: starvationWarning(counts) };
    const captures = frames.map((r) => Number(r.capture_ms)).filter((v) => Number.isFinite(v) && v > 0);
    meta.timing.stream_start_ms = captures.length ? Math.min(...captures) : null;
    const network = existsSync(join(dir, 'network.csv')) ? readCsv(join(dir, 'network.csv')) : [];
    const link = existsSync(join(dir, 'link.csv')) ? readCsv(join(dir, 'link.csv')) : null;

    // PSNR failing (a recording that does not match frames.csv) loses PSNR, not the cell's latency figures.
    let psnrByPicture: number[] | null = null;
    let psnrError: string | null = null;
    const recording = join(dir, RECORDING_FILE);
    if (spec.psnr) {
      if (!existsSync(recording)) psnrError = `no ${RECORDING_FILE}`;
      else {
        try {
          const rendered = renderOrder(frames);
          const quality = await measureQuality(recording, cell.clip.file, rendered.map((r) => Number(r.source_index)));
          psnrByPicture = quality.frames.map((f) => f.psnr);
          // Per picture too, for the dashboard's PSNR series (the summary keeps only the window's mean).
          const rows = new CsvWriter<QualityRow>(join(dir, 'quality.csv'), QUALITY_COLUMNS);
          for (const q of quality.frames) {
            const r = rendered[q.index];
            rows.write({ frame_id: Number(r.frame_id), source_index: q.sourceIndex, render_ms: Number(r.render_ms), psnr_db: q.psnr, psnr_y_db: q.psnrY });
          }
          await rows.close();
        } catch (e) {
          psnrError = (e as Error).message.split('\n')[0];
        }
        if (!spec.keepRecordings) rmSync(recording, { force: true });
      }
    }

    const figures = summarizeCell(
      {
        cell: cell.id,
        arm: cell.arm.name,
        scene: cell.clip.label,
        trace: cell.trace.label,
        trace_family: this.ctx.prepared?.trace.family ?? 'none',
        repetition: cell.repetition,
        seed: cell.seed,
      },
      { frames, network, link, warmupS: spec.warmupS, psnrByPicture, starvation: meta.starvation.counts },
    );
    const file: CellSummaryFile = {
      cell: cell.id,
      complete: false,
      warmup_s: spec.warmupS,
      window_ms: figures.window,
      run: figures.run,
      psnr: figures.psnr,
      psnr_error: psnrError,
      row: { ...figures.row, complete: 0, incomplete_reason: '' },
    };
    const r = figures.row;
    const starved = meta.starvation.warning ? `; WARNING ${meta.starvation.warning}` : '';
    const note = `e2e p50 ${r.e2e_p50_ms} ms, p95 ${r.e2e_p95_ms} ms, ${r.rendered}/${r.frames} rendered, ${r.freezes} freezes${r.psnr_db === '' ? '' : `, PSNR ${r.psnr_db} dB`}${psnrError ? `; no PSNR: ${psnrError}` : ''}${starved}`;
    return { file, note };
  }
}

/**
 * Why a cell is incomplete, or null when it is complete: an interrupt or timeout first,
 * then an error of the runner, then a peer's non-zero exit (with its one-line message),
 * then nothing measured at all.
 */
export function incompleteReason(o: {
  stopReason: string | null;
  failure: string | null;
  peers: CellMeta['peers'];
  measured: boolean;
}): string | null {
  if (o.stopReason) return o.stopReason;
  if (o.failure) return o.failure;
  for (const role of ['offer', 'answer'] as const) {
    const p = o.peers[role];
    if (p.exit_code !== 0) return `${role} exited with ${p.exit_code ?? p.signal ?? 'nothing'}: ${p.last_line || '(no output)'}`;
  }
  return o.measured ? null : 'no frames.csv: nothing was measured';
}

/** The dry-run view of a cell's commands. */
export function describeCommands(cmds: { offer: string[]; answer: string[] }): string[] {
  return [`answer: ${shellQuote(cmds.answer)}`, `offer:  ${shellQuote(cmds.offer)}`];
}
