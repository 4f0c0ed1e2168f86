/** The server side of a call as grpc-js hands it to a handler: it tells when the client leaves. */
export interface CancellableCall {
  cancelled?: boolean;
  on?(event: 'cancelled', listener: () => void): unknown;
}

/** Aborts when the client cancels the call (or its deadline passes). */
export function callSignal(call: CancellableCall | undefined): AbortSignal {
  const ac = new AbortController();
  if (call?.cancelled) ac.abort();
  else call?.on?.('cancelled', () => ac.abort());
  return ac.signal;
}
