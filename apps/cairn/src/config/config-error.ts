/**
 * A configuration the member must not start with. `message` is what the
 * entrypoint prints; it names the offending flag (etcd's wording where etcd has
 * one) and why. `flag` is the flag name without dashes, when one is to blame.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    readonly flag?: string,
    /** Every problem found, when validation found several; `message` is the first. */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** Where the entrypoint writes and how it stops; injectable so tests need not exit. */
export interface ExitIo {
  stderr: { write(s: string): unknown };
  exit(code: number): never;
}

const processIo: ExitIo = {
  stderr: process.stderr,
  exit: (code) => process.exit(code),
};

/**
 * Runs `fn`; on ConfigError prints its message and exits 1 (etcd exits 1 on
 * invalid flag values and 2 on flag-syntax errors; Cairn uses 1 for both so
 * supervisors need only one rule). Other errors propagate.
 */
export function exitOnConfigError<T>(fn: () => T, io: ExitIo = processIo): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`cairn: ${err.message}\n`);
      return io.exit(1);
    }
    throw err;
  }
}
