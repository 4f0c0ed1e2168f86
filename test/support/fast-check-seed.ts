// Every property test in `npm test` draws from one fixed seed, so a red build always reproduces
// and never depends on the luck of the draw. FC_SEED=<n> replays another seed (fast-check prints
// the one that failed); FC_SEED=random explores fresh ones. Tests that pass their own seed
// (the Raft schedules, see libs/raft/src/property.spec.ts) keep it.
import fc from 'fast-check';

const FIXED_SEED = 20261204;
const chosen = process.env.FC_SEED;
if (chosen !== 'random') {
  const seed = chosen === undefined ? FIXED_SEED : Number(chosen);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${chosen}`);
  fc.configureGlobal({ seed });
}
