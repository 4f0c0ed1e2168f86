import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { Logger } from './logging';

/**
 * How far the old generation may grow past what the last full collection left alive, while the
 * heap is small: to 3x (V8's own factor on a member's ~30 MB heap is ~1.4-1.5x). A member's
 * garbage is mostly requests that were in flight at a young collection and die soon after in
 * old space; with V8's factor a busy member ran a full collection (a 10-35 ms pause) every 1-2
 * s. Measured, one member under put load: 2 full collections per run instead of 3-4, more puts
 * per second in 5 of 5 alternating runs, less CPU per put (see README, "What moved").
 */
export const RAISED_GROWING_PERCENT = 200;

/**
 * Above this much used heap, V8's own growing factor applies again: the raised one costs up to
 * twice the live heap in extra memory, which is cheap on a small heap and not on a large one.
 */
export const HEAP_GROWTH_CEILING_BYTES = 256 * 1024 * 1024;

/** How often the heap's size is looked at. */
const CHECK_INTERVAL_MS = 5_000;

/** True if the operator passed V8's --heap-growing-percent to node: theirs wins. */
export function operatorSetsHeapGrowth(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg));
}

/**
 * Raises V8's heap growing factor while the heap is below the ceiling and gives V8 its own
 * factor back above it; lowered, it is raised again only once the heap is below half the
 * ceiling, so a heap near the ceiling does not flip between the two.
 */
export class HeapGrowth {
  private raised: boolean | undefined;

  constructor(
    private readonly usedHeapBytes: () => number = () => getHeapStatistics().used_heap_size,
    private readonly setV8Flags: (flags: string) => void = setFlagsFromString,
  ) {}

  /** Sets the factor for the heap's current size; true when it changed. */
  adjust(): boolean {
    const used = this.usedHeapBytes();
    const raise =
      this.raised === false ? used < HEAP_GROWTH_CEILING_BYTES / 2 : used < HEAP_GROWTH_CEILING_BYTES;
    if (raise === this.raised) return false;
    this.raised = raise;
    // V8 reads the flag each time it sets the next full collection's limit; 0 is its own factor.
    this.setV8Flags(`--heap-growing-percent=${raise ? RAISED_GROWING_PERCENT : 0}`);
    return true;
  }

  get isRaised(): boolean {
    return this.raised === true;
  }
}

/**
 * Manages the heap growing factor for this process unless the operator set it. The check runs
 * off an unref'd timer, so it never keeps the process up.
 */
export function manageHeapGrowth(logger: Pick<Logger, 'debug'>, execArgv = process.execArgv): void {
  if (operatorSetsHeapGrowth(execArgv)) return;
  const growth = new HeapGrowth();
  const adjust = () => {
    if (growth.adjust()) logger.debug('heap growing factor set', { raised: growth.isRaised });
  };
  adjust();
  setInterval(adjust, CHECK_INTERVAL_MS).unref();
}
