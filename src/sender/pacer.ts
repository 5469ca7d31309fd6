/**
 * Packet pacer after libwebrtc's PacingController in its periodic ("IntervalBudget")
 * mode:
 *   - modules/pacing/pacing_controller.cc   (ProcessPackets, UpdateBudgetWithElapsedTime,
 *                                             GetPendingPacket, drain_large_queues_)
 *   - modules/pacing/interval_budget.cc     (the media budget)
 *   - modules/pacing/prioritized_packet_queue.cc (priority levels, AverageQueueTime,
 *                                             OldestEnqueueTime)
 *
 * A pure object: no timers and no clock. The caller passes `nowMs` (a monotonic,
 * possibly fractional, millisecond timeline) to every method, calls `process(nowMs)`
 * and sends what it returns, and asks `nextProcessTimeMs(nowMs)` when to call again.
 *
 * Differences from libwebrtc (on purpose):
 *   - Priority classes are ours: retransmission > backup > video > padding. libwebrtc
 *     has audio > retransmission > video/FEC > padding; the backup stream of the
 *     dual-stream scheme needs its own level above primary video (DESIGN.md §2), or
 *     its packets would queue behind the I-frame's.
 *   - Strict FIFO inside a class; libwebrtc round-robins between SSRCs inside a level.
 *   - No probing, no padding generation, no congestion window, no keep-alive, no pause,
 *     no transport-overhead accounting: those belong to other units of this testbed.
 *   - The budget is kept in fractional bytes at the exact rate in bit/s; libwebrtc's
 *     IntervalBudget truncates to whole kbit/s and whole bytes per increase.
 *   - Idle pacer: when a packet is enqueued into an empty queue, the idle time since the
 *     last process() is credited as a periodic process thread would have credited it
 *     (underuse is not built up, so at most one burst interval of budget). Then
 *     process() at the same instant sends it with no added delay. This mirrors
 *     PacingController::EnqueuePacketInternal, which in dynamic mode moves
 *     last_process_time_ to `now` when a packet arrives at an empty, debt-free queue.
 *     Without it, a caller that does not call process() while the queue is empty would
 *     get a burst of up to kMaxProcessingInterval (30 ms) of budget after every pause.
 *   - nextProcessTimeMs(): libwebrtc's periodic mode simply returns
 *     last_process_time_ + kDefaultMinPacketLimit. We return `now` when a packet can go
 *     out at once, and otherwise wait until the media debt is paid off (at least one
 *     burst interval, at most kMaxProcessingInterval so no elapsed time is ever lost to
 *     that cap). Calling process() more often is always allowed.
 */

/** Highest priority first. 'backup' is the dual-stream backup stream (ours). */
export type PacketPriority = 'retransmission' | 'backup' | 'video' | 'padding';

/** Priority levels, lowest number first (as prioritized_packet_queue.cc GetPriorityForType). */
const PRIORITY_LEVEL: Readonly<Record<PacketPriority, number>> = {
  retransmission: 0,
  backup: 1,
  video: 2,
  padding: 3,
};
const NUM_PRIORITY_LEVELS = 4;

/** PacingController::kDefaultPaceMultiplier = 2.5f (pacing rate = 2.5 × target rate). */
export const DEFAULT_PACING_FACTOR = 2.5;
/**
 * pacing_controller.cc kDefaultMinPacketLimit = 5 ms ("time limit in milliseconds
 * between packet bursts"); the process interval of the periodic mode, and the budget
 * the controller starts with (constructor: UpdateBudgetWithElapsedTime(min_packet_limit_)).
 */
export const DEFAULT_BURST_INTERVAL_MS = 5;
/** PacingController::kMaxExpectedQueueLength = 2000 ms (default queue_time_limit). */
export const DEFAULT_QUEUE_TIME_LIMIT_MS = 2000;
/**
 * pacing_controller.cc kMaxProcessingInterval = 30 ms: "upper cap on process interval,
 * in case process has not been called in a long time" (periodic mode).
 */
export const DEFAULT_MAX_PROCESSING_INTERVAL_MS = 30;
/** interval_budget.cc kWindowMs = 500: the budget is capped at ±500 ms worth of rate. */
export const INTERVAL_BUDGET_WINDOW_MS = 500;
/**
 * Drain logic floor: pacing_controller.cc uses
 * max(TimeDelta::Millis(1), queue_time_limit - AverageQueueTime()) as the time left.
 */
const MIN_DRAIN_TIME_LEFT_MS = 1;

export interface PacerOptions {
  /** Pacing rate = pacingFactor × target rate. Default 2.5 (kDefaultPaceMultiplier). */
  pacingFactor?: number;
  /** Burst / process interval, ms. Default 5 (kDefaultMinPacketLimit). */
  burstIntervalMs?: number;
  /**
   * Queue-time limit (libwebrtc queue_time_limit, kMaxExpectedQueueLength), ms.
   * Default 2000; null turns the drain logic off (field trial WebRTC-Pacer-DrainQueue).
   */
  queueTimeLimitMs?: number | null;
  /** Cap on the elapsed time credited by one process(), ms. Default 30 (kMaxProcessingInterval). */
  maxProcessingIntervalMs?: number;
}

/**
 * libwebrtc's IntervalBudget: a byte budget refilled at a rate, capped at
 * ±kWindowMs (500 ms) worth of that rate. Overuse (a negative budget) is carried over
 * to the next interval; underuse is not built up (a non-negative budget is reset to
 * the new interval's bytes).
 */
export class IntervalBudget {
  private rateBps = 0;
  private maxBytes = 0;
  private remaining = 0;

  constructor(rateBps: number) {
    this.setTargetRate(rateBps);
  }

  /** IntervalBudget::set_target_rate_kbps: new rate and window, remaining clamped to ±window. */
  setTargetRate(rateBps: number): void {
    this.rateBps = rateBps;
    this.maxBytes = (INTERVAL_BUDGET_WINDOW_MS * rateBps) / 8000;
    this.remaining = Math.min(Math.max(-this.maxBytes, this.remaining), this.maxBytes);
  }

  /** IntervalBudget::IncreaseBudget. */
  increase(deltaMs: number): void {
    const bytes = (this.rateBps * deltaMs) / 8000;
    if (this.remaining < 0) {
      // Overused last interval: compensate this interval.
      this.remaining = Math.min(this.remaining + bytes, this.maxBytes);
    } else {
      // Underused last interval: it cannot be used this interval.
      this.remaining = Math.min(bytes, this.maxBytes);
    }
  }

  /** IntervalBudget::UseBudget: may go negative, down to -window. */
  use(bytes: number): void {
    this.remaining = Math.max(this.remaining - bytes, -this.maxBytes);
  }

  /** Caps a positive budget (used for the idle catch-up). */
  capAt(bytes: number): void {
    this.remaining = Math.min(this.remaining, bytes);
  }

  /** Signed remaining bytes (libwebrtc's bytes_remaining() clamps this at 0). */
  get bytesRemaining(): number {
    return this.remaining;
  }

  get targetRateBps(): number {
    return this.rateBps;
  }
}

interface QueuedPacket<T> {
  item: T;
  sizeBytes: number;
  enqueueTimeMs: number;
}

/** A FIFO with O(1) amortised push/shift. */
class Fifo<E> {
  private items: (E | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: E): void {
    this.items.push(e);
  }

  peek(): E | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Takes out every element `drop` selects, keeping the order of the rest; returns them. */
  removeWhere(drop: (e: E) => boolean): E[] {
    const kept: E[] = [];
    const removed: E[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i] as E;
      (drop(e) ? removed : kept).push(e);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }

  shift(): E | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

function checkRate(targetRateBps: number): void {
  if (!Number.isFinite(targetRateBps) || targetRateBps < 0) {
    throw new RangeError(`target rate must be a finite number >= 0 bit/s, got ${targetRateBps}`);
  }
}

function checkPositive(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) {
    throw new RangeError(`${name} must be a finite number > 0, got ${v}`);
  }
}

export class Pacer<T> {
  private readonly pacingFactor: number;
  private readonly burstIntervalMs: number;
  private readonly queueTimeLimitMs: number | null;
  private readonly maxProcessingIntervalMs: number;

  private targetRateBps: number;
  /** libwebrtc media_budget_. */
  private readonly budget: IntervalBudget;
  /** libwebrtc last_process_time_; null until the first call that carries a time. */
  private lastProcessMs: number | null = null;
  /** Latest time seen; earlier times are clamped to it (PacingController::CurrentTime). */
  private lastNowMs = -Infinity;

  private readonly queues: Fifo<QueuedPacket<T>>[] = [];
  private packets = 0;
  private bytes = 0;
  /** prioritized_packet_queue.cc queue_time_sum_ / last_update_time_. */
  private queueTimeSumMs = 0;
  private queueTimeUpdateMs = -Infinity;

  constructor(targetRateBps: number, opts: PacerOptions = {}) {
    checkRate(targetRateBps);
    this.pacingFactor = opts.pacingFactor ?? DEFAULT_PACING_FACTOR;
    this.burstIntervalMs = opts.burstIntervalMs ?? DEFAULT_BURST_INTERVAL_MS;
    this.queueTimeLimitMs =
      opts.queueTimeLimitMs === undefined ? DEFAULT_QUEUE_TIME_LIMIT_MS : opts.queueTimeLimitMs;
    this.maxProcessingIntervalMs = opts.maxProcessingIntervalMs ?? DEFAULT_MAX_PROCESSING_INTERVAL_MS;
    checkPositive('pacingFactor', this.pacingFactor);
    checkPositive('burstIntervalMs', this.burstIntervalMs);
    checkPositive('maxProcessingIntervalMs', this.maxProcessingIntervalMs);
    if (this.queueTimeLimitMs !== null) checkPositive('queueTimeLimitMs', this.queueTimeLimitMs);
    for (let i = 0; i < NUM_PRIORITY_LEVELS; i++) this.queues.push(new Fifo());

    this.targetRateBps = targetRateBps;
    this.budget = new IntervalBudget(this.pacingRateBps);
    // PacingController constructor: UpdateBudgetWithElapsedTime(min_packet_limit_),
    // so the first packet can leave at once.
    this.budget.increase(this.burstIntervalMs);
  }

  /** Pacing rate = pacingFactor × target rate (PacingController::SetPacingRates). */
  get pacingRateBps(): number {
    return this.pacingFactor * this.targetRateBps;
  }

  /**
   * The rate the media budget was last refilled at: the pacing rate, or higher while
   * the queue-time limit is draining a large queue.
   */
  get effectiveRateBps(): number {
    return this.budget.targetRateBps;
  }

  get queuedPackets(): number {
    return this.packets;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /**
   * Sets the target rate. Time since the last process() is first credited at the old
   * rate, so the new rate applies from `nowMs` on.
   */
  setTargetRate(targetRateBps: number, nowMs: number): void {
    checkRate(targetRateBps);
    const now = this.clampNow(nowMs);
    this.advance(now);
    this.targetRateBps = targetRateBps;
    this.budget.setTargetRate(this.pacingRateBps);
  }

  enqueue(item: T, sizeBytes: number, priority: PacketPriority, nowMs: number): void {
    if (!Number.isFinite(sizeBytes) || sizeBytes < 0) {
      throw new RangeError(`packet size must be a finite number >= 0, got ${sizeBytes}`);
    }
    const level = PRIORITY_LEVEL[priority];
    if (level === undefined) throw new RangeError(`unknown priority ${String(priority)}`);
    const now = this.clampNow(nowMs);
    if (this.packets === 0) this.catchUpIdle(now);
    this.updateQueueTime(now);
    this.queues[level]!.push({ item, sizeBytes, enqueueTimeMs: now });
    this.packets++;
    this.bytes += sizeBytes;
  }

  /**
   * Takes queued packets out unsent (PrioritizedPacketQueue::RemovePacketsForSsrc, which
   * PacingController's key-frame flushing uses): every packet `drop` selects, any priority.
   * Returns them, in priority then queue order.
   */
  remove(drop: (item: T) => boolean, nowMs: number): T[] {
    this.updateQueueTime(this.clampNow(nowMs));
    const out: T[] = [];
    for (const q of this.queues) {
      for (const p of q.removeWhere((e) => drop(e.item))) {
        this.packets--;
        this.bytes -= p.sizeBytes;
        this.queueTimeSumMs -= this.queueTimeUpdateMs - p.enqueueTimeMs;
        out.push(p.item);
      }
    }
    if (this.packets === 0) {
      this.bytes = 0;
      this.queueTimeSumMs = 0;
    }
    return out;
  }

  /**
   * PacingController::ProcessPackets (periodic mode): refill the budget with the elapsed
   * time, then pop packets in priority order while the budget is positive. The last
   * packet may take the budget negative; that debt is paid by the next refills.
   */
  process(nowMs: number): T[] {
    const now = this.clampNow(nowMs);
    this.advance(now);
    this.updateQueueTime(now);
    const out: T[] = [];
    while (this.packets > 0 && this.budget.bytesRemaining > 0) {
      const p = this.pop();
      this.budget.use(p.sizeBytes);
      out.push(p.item);
    }
    return out;
  }

  /**
   * The next packet in priority order regardless of the budget, charged to it (debt is paid
   * by later refills): a probe cluster sends queued media at the probe's rate, as
   * libwebrtc's PacingController does while a cluster is active. Null when the queue is empty.
   */
  takeForProbe(nowMs: number): T | null {
    const now = this.clampNow(nowMs);
    this.advance(now);
    this.updateQueueTime(now);
    if (this.packets === 0) return null;
    const p = this.pop();
    this.budget.use(p.sizeBytes);
    return p.item;
  }

  /**
   * When the caller should call process() next; null when the queue is empty (call it
   * again after the next enqueue). Returns `nowMs` when a packet can go out at once.
   */
  nextProcessTimeMs(nowMs: number): number | null {
    if (this.packets === 0) return null;
    const now = Math.max(nowMs, this.lastNowMs);
    if (this.lastProcessMs === null || this.budget.bytesRemaining > 0) return now;
    const rateBytesPerMs = this.budget.targetRateBps / 8000;
    const debtMs =
      rateBytesPerMs > 0 ? Math.floor(-this.budget.bytesRemaining / rateBytesPerMs) + 1 : Infinity;
    const waitMs = Math.min(Math.max(this.burstIntervalMs, debtMs), this.maxProcessingIntervalMs);
    return Math.max(now, this.lastProcessMs + waitMs);
  }

  /** PacingController::ExpectedQueueTime: queued bytes / pacing rate, ms. */
  expectedQueueTimeMs(): number {
    const rate = this.pacingRateBps;
    if (this.bytes === 0) return 0;
    if (rate <= 0) return Infinity;
    return (this.bytes * 8000) / rate;
  }

  /** PrioritizedPacketQueue::OldestEnqueueTime; null when empty. */
  oldestEnqueueTimeMs(): number | null {
    let oldest: number | null = null;
    for (const q of this.queues) {
      const head = q.peek();
      if (head !== undefined && (oldest === null || head.enqueueTimeMs < oldest)) {
        oldest = head.enqueueTimeMs;
      }
    }
    return oldest;
  }

  /**
   * PrioritizedPacketQueue::AverageQueueTime at `nowMs`: mean time the queued packets
   * have waited so far, ms.
   */
  averageQueueTimeMs(nowMs: number): number {
    if (this.packets === 0) return 0;
    const now = Math.max(nowMs, this.queueTimeUpdateMs);
    return (this.queueTimeSumMs + (now - this.queueTimeUpdateMs) * this.packets) / this.packets;
  }

  // ---------------------------------------------------------------------------------

  /** PacingController::CurrentTime: never go backwards. */
  private clampNow(nowMs: number): number {
    if (!Number.isFinite(nowMs)) throw new RangeError(`time must be finite, got ${nowMs}`);
    if (nowMs > this.lastNowMs) this.lastNowMs = nowMs;
    return this.lastNowMs;
  }

  /**
   * UpdateTimeAndGetElapsed + the rate selection of ProcessPackets + UpdateBudgetWithElapsedTime
   * (periodic mode): credit the budget with the time since the last process, capped at
   * kMaxProcessingInterval, at the pacing rate raised by the drain logic if needed.
   */
  private advance(now: number): void {
    if (this.lastProcessMs === null) {
      this.lastProcessMs = now;
      return;
    }
    const elapsed = now - this.lastProcessMs;
    if (elapsed <= 0) return; // as libwebrtc: `if (elapsed_time > TimeDelta::Zero())`
    this.lastProcessMs = now;
    let rate = this.pacingRateBps;
    if (this.packets > 0) {
      this.updateQueueTime(now);
      if (this.queueTimeLimitMs !== null) {
        // drain_large_queues_: assuming equal packets and in/out rates, the average
        // packet has `timeLeft` to get the whole queue out if the limit is to be met.
        const timeLeft = Math.max(
          MIN_DRAIN_TIME_LEFT_MS,
          this.queueTimeLimitMs - this.queueTimeSumMs / this.packets,
        );
        const minRateNeeded = (this.bytes * 8000) / timeLeft;
        if (minRateNeeded > rate) rate = minRateNeeded;
      }
    }
    this.budget.setTargetRate(rate);
    this.budget.increase(Math.min(elapsed, this.maxProcessingIntervalMs));
  }

  /**
   * A packet arrives at an empty queue: credit the idle time as a periodic process
   * thread would have (debt paid off by the whole idle time, underuse not built up),
   * i.e. at most one burst interval of positive budget, and restart the interval now.
   */
  private catchUpIdle(now: number): void {
    if (this.lastProcessMs === null) {
      this.lastProcessMs = now;
      return;
    }
    const elapsed = now - this.lastProcessMs;
    if (elapsed <= 0) return;
    this.lastProcessMs = now;
    this.budget.setTargetRate(this.pacingRateBps);
    this.budget.increase(elapsed);
    this.budget.capAt((this.pacingRateBps * this.burstIntervalMs) / 8000);
  }

  /** PrioritizedPacketQueue::UpdateAverageQueueTime. */
  private updateQueueTime(now: number): void {
    if (now > this.queueTimeUpdateMs) {
      if (this.packets > 0) this.queueTimeSumMs += (now - this.queueTimeUpdateMs) * this.packets;
      this.queueTimeUpdateMs = now;
    }
  }

  /** PrioritizedPacketQueue::Pop: head of the highest non-empty priority level. */
  private pop(): QueuedPacket<T> {
    for (const q of this.queues) {
      const p = q.shift();
      if (p === undefined) continue;
      this.packets--;
      this.bytes -= p.sizeBytes;
      // DequeuePacketInternal: remove this packet's wait from the sum.
      this.queueTimeSumMs -= this.queueTimeUpdateMs - p.enqueueTimeMs;
      if (this.packets === 0) {
        this.bytes = 0;
        this.queueTimeSumMs = 0;
      }
      return p;
    }
    throw new Error('pop on an empty pacer queue');
  }
}
