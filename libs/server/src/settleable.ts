/** A promise resolved from outside, once: an event others wait for (a publication, a removal). */
export interface Settleable {
  promise: Promise<void>;
  resolve: () => void;
}

export function settleable(): Settleable {
  let resolve!: () => void;
  const promise = new Promise<void>((ok) => (resolve = ok));
  return { promise, resolve };
}
