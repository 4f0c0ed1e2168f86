// ConfigWatcher: the current configuration under a key or prefix and every later change, parsed as
// JSON and validated with class-validator. An invalid change is reported and not applied.
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
import { EventEmitter } from 'node:events';
import { CairnClient, KeyValue, Watcher } from '../../client/src';

export interface ConfigWatcherOptions<T extends object> {
  key: string;
  /** Watch every key under `key` instead of the single key. */
  prefix?: boolean;
  /** The class whose class-validator decorators define a valid value. */
  schema: ClassConstructor<T>;
  /** Turns the stored bytes into a plain object (default: JSON.parse). */
  parse?: (raw: Buffer) => unknown;
}

export interface ConfigChange<T> {
  key: string;
  /** The new value; undefined when the key was deleted. */
  value?: T;
  previous?: T;
  revision: number;
}

export interface InvalidConfig {
  key: string;
  raw: Buffer;
  revision: number;
  /** Validation errors, or the parse error. */
  errors: ValidationError[] | Error;
}

/** Emits 'change' (ConfigChange) for applied changes and 'invalid' (InvalidConfig) for rejected ones. */
export class ConfigWatcher<T extends object> extends EventEmitter {
  /** Valid values by key. */
  readonly values = new Map<string, T>();
  private watcher?: Watcher;

  /** Attach 'change' / 'invalid' listeners, then call start(). */
  constructor(
    private readonly client: CairnClient,
    private readonly options: ConfigWatcherOptions<T>,
  ) {
    super();
  }

  /** Loads the current value(s) (reporting invalid ones) and starts following changes. */
  async start(): Promise<this> {
    await this.load();
    return this;
  }

  /** The value of the watched key (single-key watchers). */
  get value(): T | undefined {
    return this.values.get(this.options.key);
  }

  async close(): Promise<void> {
    await this.watcher?.cancel();
  }

  private async load(): Promise<void> {
    const { key, prefix } = this.options;
    const res = await this.client.kv.range(key, { prefix });
    for (const kv of res.kvs) await this.apply(kv);
    this.watcher = this.client.watch(key, { prefix, startRevision: res.header.revision + 1 });
    // Changes are applied in order, one at a time, so a slow validation cannot reorder them.
    let chain = Promise.resolve();
    this.watcher.on('event', (ev) => {
      chain = chain.then(() => (ev.type === 'put' ? this.apply(ev.kv) : this.remove(ev.kv)));
    });
    // The watch failed for good (e.g. compaction): reported to 'error' listeners; values stay as they were.
    this.watcher.on('error', (e) => this.listenerCount('error') > 0 && this.emit('error', e));
  }

  private async apply(kv: KeyValue): Promise<void> {
    const key = kv.keyString;
    const invalid = (errors: ValidationError[] | Error) =>
      this.emit('invalid', { key, raw: kv.value, revision: kv.modRevision, errors } satisfies InvalidConfig);
    let value: T;
    try {
      const plain = (this.options.parse ?? ((raw: Buffer) => JSON.parse(raw.toString())))(kv.value);
      value = plainToInstance(this.options.schema, plain) as T;
    } catch (e) {
      return void invalid(e as Error);
    }
    const errors = typeof value === 'object' && value !== null ? await validate(value) : [];
    if (typeof value !== 'object' || value === null)
      return void invalid(new Error('configuration is not an object'));
    if (errors.length) return void invalid(errors);
    const previous = this.values.get(key);
    this.values.set(key, value);
    this.emit('change', { key, value, previous, revision: kv.modRevision } satisfies ConfigChange<T>);
  }

  private async remove(kv: KeyValue): Promise<void> {
    const key = kv.keyString;
    const previous = this.values.get(key);
    if (!this.values.delete(key)) return;
    this.emit('change', {
      key,
      value: undefined,
      previous,
      revision: kv.modRevision,
    } satisfies ConfigChange<T>);
  }
}
