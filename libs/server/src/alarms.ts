import { Engine, EngineOp, metaKey } from '../../storage/src';
import { AlarmAction, AlarmMember, AlarmRequest, AlarmType } from './etcd-types';

const ALARM_PREFIX = metaKey('alarm/');
const ALARM_PREFIX_END = metaKey('alarm0'); // '0' follows '/'

/**
 * The cluster's active alarms (etcd's alarm store): which member raised which alarm. Changed
 * only by applying alarm requests from the log, and persisted with the applied batch, so every
 * member holds the same alarms and they survive a restart, as in etcd.
 */
export class AlarmStore {
  /** `${memberId}/${type}` -> the alarm, in the order raised. */
  private readonly active = new Map<string, AlarmMember>();
  private pending: EngineOp[] = [];

  /** Loads the alarms persisted in the engine. */
  static async load(engine: Engine): Promise<AlarmStore> {
    const store = new AlarmStore();
    await store.reload(engine);
    return store;
  }

  /** (Re)loads the alarms from the engine (after a snapshot replaced them). */
  async reload(engine: Engine): Promise<void> {
    this.active.clear();
    this.pending = [];
    for await (const chunk of engine.scan(ALARM_PREFIX, ALARM_PREFIX_END)) {
      for (const [, value] of chunk) {
        const [memberID, type] = value.toString('utf8').split('/');
        this.active.set(`${memberID}/${type}`, { memberID, alarm: Number(type) as AlarmType });
      }
    }
  }

  /** True while any member has `type` raised. */
  has(type: AlarmType): boolean {
    for (const a of this.active.values()) if (a.alarm === type) return true;
    return false;
  }

  /** Every active alarm of `type` (NONE: of every type). */
  list(type: AlarmType = AlarmType.NONE): AlarmMember[] {
    return [...this.active.values()].filter((a) => type === AlarmType.NONE || a.alarm === type);
  }

  /**
   * Applies an alarm request as etcd's applier does: GET lists, ACTIVATE answers the alarm it
   * raised (nothing if it was already raised), DEACTIVATE the one it cleared (nothing if none).
   */
  apply(req: AlarmRequest): AlarmMember[] {
    const type = Number(req.alarm ?? AlarmType.NONE) as AlarmType;
    const memberID = BigInt(req.memberID ?? 0).toString();
    const id = `${memberID}/${type}`;
    switch (Number(req.action ?? AlarmAction.GET)) {
      case AlarmAction.GET:
        return this.list(type);
      case AlarmAction.ACTIVATE: {
        if (type === AlarmType.NONE || this.active.has(id)) return [];
        const alarm = { memberID, alarm: type };
        this.active.set(id, alarm);
        this.pending.push({ type: 'put', key: alarmKey(id), value: Buffer.from(id, 'utf8') });
        return [alarm];
      }
      case AlarmAction.DEACTIVATE: {
        const alarm = this.active.get(id);
        if (!alarm) return [];
        this.active.delete(id);
        this.pending.push({ type: 'del', key: alarmKey(id) });
        return [alarm];
      }
      default:
        return [];
    }
  }

  /** The writes the changes since the last call need; the applier flushes them with its batch. */
  takeOps(): EngineOp[] {
    const ops = this.pending;
    this.pending = [];
    return ops;
  }
}

const alarmKey = (id: string): Buffer => Buffer.concat([ALARM_PREFIX, Buffer.from(id, 'utf8')]);

/** etcd's text form of an alarm (Go's proto CompactTextString, trailing space included). */
export function formatAlarm(a: AlarmMember): string {
  return `memberID:${a.memberID} alarm:${AlarmType[a.alarm] ?? a.alarm} `;
}
