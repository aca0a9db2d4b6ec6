// Wraps the EntityStore so that every committed entity change also records its history (GS CIM 009 §4.5.6;
// guide §15.1; issue 6 item 1): the HistoryWrite is derived inside the write's decide step and written by
// the store in the same transaction. A decision that already carries history (temporal API writes) is left
// alone. Services stay unaware of history, like they are of notifications (notifying-store.ts).
import type { Entity } from '../core/model/entity.ts';
import { historyOf } from '../core/temporal/history.ts';
import type { Clock } from '../ports/clock.ts';
import { uuidV7 } from './time-ordered-id.ts';
import type { BatchItem, EntityStore, WriteDecision } from '../ports/store.ts';

export interface RecordingStoreDeps {
  store: EntityStore;
  clock: Clock;
}

export const newInstanceId = (): string => `urn:ngsi-ld:${uuidV7()}`;

/** The decision with its history added (unless it writes nothing or already carries history). */
export function withHistory<R>(decision: WriteDecision<R>, current: Entity | null, clock: Clock): WriteDecision<R> {
  if (decision.history !== undefined || (decision.put === undefined && decision.remove !== true)) return decision;
  const after = decision.remove === true ? null : decision.put!;
  const history = historyOf(current, after, after?.modifiedAt ?? clock.nowIso(), newInstanceId);
  return history === null ? decision : { ...decision, history };
}

export function createRecordingStore(deps: RecordingStoreDeps): EntityStore {
  const { store, clock } = deps;
  return {
    ...store,
    writeEntity(tenant, id, decide, options) {
      return store.writeEntity(tenant, id, (current) => withHistory(decide(current), current, clock), options);
    },
    writeEntities<R>(tenant: Parameters<EntityStore['writeEntities']>[0], items: readonly BatchItem<R>[], options: { createTenant: boolean }) {
      const wrapped = items.map((item) => ({ id: item.id, decide: (current: Entity | null) => withHistory(item.decide(current), current, clock) }));
      return store.writeEntities(tenant, wrapped, options);
    },
  };
}
