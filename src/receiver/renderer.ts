/**
 * Shows decoded pictures at their render times, in order: each waits for its time on the
 * injected timer, behind the one before it, then goes to the output (the recorder).
 */
import type { Clock, Timer } from '../clock';
import type { VideoFrame } from '../media/codec';
import type { StreamKind } from '../rtp/types';

export type RenderOutput = (frame: VideoFrame, frameId: number, renderMs: number, stream: StreamKind) => void;

export class Renderer {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly timer: Timer,
    private readonly output: RenderOutput,
  ) {}

  /** Queues `picture` for `atMs`; `shown` runs with the time it was shown. */
  render(picture: VideoFrame, frameId: number, stream: StreamKind, atMs: number, shown: (renderMs: number) => void): void {
    this.chain = this.chain.then(async () => {
      const wait = atMs - this.clock.now();
      if (wait > 0) await new Promise<void>((r) => this.timer.setTimeout(r, wait));
      const now = this.clock.now();
      this.output(picture, frameId, now, stream);
      shown(now);
    });
  }

  /** Resolves when every queued picture was shown. */
  idle(): Promise<void> {
    return this.chain;
  }
}
