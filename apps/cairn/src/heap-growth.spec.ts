import { spawnSync } from 'node:child_process';
import {
  HEAP_GROWTH_CEILING_BYTES,
  HeapGrowth,
  RAISED_GROWING_PERCENT,
  operatorSetsHeapGrowth,
} from './heap-growth';

const MB = 1024 * 1024;

describe('heap growth', () => {
  /** A policy over a heap whose size the test sets, recording the flags it passes to V8. */
  const policy = () => {
    const state = { used: 30 * MB, flags: [] as string[] };
    const growth = new HeapGrowth(
      () => state.used,
      (f) => state.flags.push(f),
    );
    return { state, growth };
  };

  it('raises the factor on a small heap, once', () => {
    const { state, growth } = policy();
    expect(growth.adjust()).toBe(true);
    expect(growth.adjust()).toBe(false);
    expect(growth.isRaised).toBe(true);
    expect(state.flags).toEqual([`--heap-growing-percent=${RAISED_GROWING_PERCENT}`]);
  });

  it('gives V8 its own factor back above the ceiling, and raises it again only below half of it', () => {
    const { state, growth } = policy();
    growth.adjust();
    state.used = HEAP_GROWTH_CEILING_BYTES + MB;
    expect(growth.adjust()).toBe(true);
    expect(growth.isRaised).toBe(false);
    state.used = HEAP_GROWTH_CEILING_BYTES - MB; // below the ceiling, above half: stays V8's
    expect(growth.adjust()).toBe(false);
    state.used = HEAP_GROWTH_CEILING_BYTES / 2 - MB;
    expect(growth.adjust()).toBe(true);
    expect(growth.isRaised).toBe(true);
    expect(state.flags).toEqual([
      `--heap-growing-percent=${RAISED_GROWING_PERCENT}`,
      '--heap-growing-percent=0',
      `--heap-growing-percent=${RAISED_GROWING_PERCENT}`,
    ]);
  });

  it('starts with V8 own factor on a heap already above the ceiling', () => {
    const { state, growth } = policy();
    state.used = HEAP_GROWTH_CEILING_BYTES * 2;
    growth.adjust();
    expect(growth.isRaised).toBe(false);
    expect(state.flags).toEqual(['--heap-growing-percent=0']);
  });

  it('leaves the factor alone when the operator gave node their own', () => {
    expect(operatorSetsHeapGrowth(['--heap-growing-percent=50'])).toBe(true);
    expect(operatorSetsHeapGrowth(['--max-old-space-size=512', '--heap_growing_percent=0'])).toBe(true);
    expect(operatorSetsHeapGrowth(['--heap-growing-percent', '50'])).toBe(true);
    expect(operatorSetsHeapGrowth([])).toBe(false);
    expect(operatorSetsHeapGrowth(['--max-old-space-size=512', '--heap-growing-percentage=5'])).toBe(false);
  });

  it("is a flag this node's V8 accepts at run time", () => {
    // setFlagsFromString ignores names it does not know; V8 lists the ones it does.
    const out = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    expect(out).toMatch(/^\s*--heap-growing-percent\b/m);
    expect(out).toMatch(
      /--freeze-flags-after-init[^\n]*\n\s*type: bool\s+default: --no-freeze-flags-after-init/,
    );
  });
});
