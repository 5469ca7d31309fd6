/**
 * The CSVs one peer writes during a run, opened together and closed together, fed by the
 * send or receive path's own events (frame events, frame records, state-machine and
 * receiver events, rate updates).
 */
import { join } from 'node:path';
import type { ReceivedFrame } from '../receiver/frame-records';
import type { SenderFrameEvent } from '../sender/frame-events';
import { CsvWriter } from './csv';
import { receiverRow } from './receiver-frames';
import {
  NETWORK_COLUMNS,
  RECEIVER_COLUMNS,
  RECEIVER_EVENT_COLUMNS,
  SENDER_COLUMNS,
  SENDER_EVENT_COLUMNS,
  type NetworkRow,
  type ReceiverEventRow,
  type ReceiverFrameRow,
  type SenderEventRow,
  type SenderFrameRow,
} from './rows';
import { SenderFrameLog } from './sender-frames';

/** sender-frames.csv, events.csv, network.csv. */
export class SenderFiles {
  private readonly frames: CsvWriter<SenderFrameRow>;
  private readonly frameLog: SenderFrameLog;
  readonly events: CsvWriter<SenderEventRow>;
  readonly network: CsvWriter<NetworkRow>;

  constructor(dir: string) {
    this.frames = new CsvWriter<SenderFrameRow>(join(dir, 'sender-frames.csv'), SENDER_COLUMNS);
    this.events = new CsvWriter<SenderEventRow>(join(dir, 'events.csv'), SENDER_EVENT_COLUMNS);
    this.network = new CsvWriter<NetworkRow>(join(dir, 'network.csv'), NETWORK_COLUMNS);
    this.frameLog = new SenderFrameLog((row) => this.frames.write(row));
  }

  onFrame(e: SenderFrameEvent): void {
    this.frameLog.on(e);
  }

  async close(): Promise<void> {
    for (const f of [this.frames, this.events, this.network]) await f.close();
  }
}

/** receiver-frames.csv, receiver-events.csv. */
export class ReceiverFiles {
  private readonly frames: CsvWriter<ReceiverFrameRow>;
  readonly events: CsvWriter<ReceiverEventRow>;

  constructor(dir: string) {
    this.frames = new CsvWriter<ReceiverFrameRow>(join(dir, 'receiver-frames.csv'), RECEIVER_COLUMNS);
    this.events = new CsvWriter<ReceiverEventRow>(join(dir, 'receiver-events.csv'), RECEIVER_EVENT_COLUMNS);
  }

  onFrameSettled(f: ReceivedFrame): void {
    this.frames.write(receiverRow(f));
  }

  async close(): Promise<void> {
    for (const f of [this.frames, this.events]) await f.close();
  }
}
