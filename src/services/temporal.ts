// Temporal provision use cases (GS CIM 009 §5.6.11–5.6.16; guide §15.1–15.2): create or add instances,
// delete a history, an attribute's history or one instance, correct one instance. The temporal and the
// current state are one entity store: instances added here also move the entity's current state (the
// latest instance per attribute), in the same transaction as the instances are recorded.
import { badRequestData, notFound } from '../core/errors.ts';
import type { JsonObject } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import { compareDateTime } from '../core/datetime.ts';
import type { Entity } from '../core/model/entity.ts';
import type { ModelLimits } from '../core/model/drafts.ts';
import { scopeChange, temporalRecord } from '../core/temporal/history.ts';
import { applyTemporal, parseTemporalEntity, temporalInstances, type ParsedTemporalEntity } from '../core/temporal/temporal-input.ts';
import { SCOPE_ATTR, type HistoryWrite, type TemporalEntity } from '../core/temporal/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { EntityStore, WriteDecision } from '../ports/store.ts';
import type { TemporalStore } from '../ports/temporal-store.ts';
import { newInstanceId } from './recording-store.ts';

export interface TemporalServiceDeps {
  store: EntityStore;
  temporal: TemporalStore;
  clock: Clock;
  limits: ModelLimits;
}

const isLive = (e: Entity | null, now: string): e is Entity => e !== null && (e.expiresAt === undefined || compareDateTime(e.expiresAt, now) > 0);

/** The current entity, or — for an entity known only to the temporal store — an empty one of its types. */
function startingPoint(current: Entity | null, record: TemporalEntity | null, id: string, now: string): Entity | null {
  if (isLive(current, now)) return current;
  if (record === null) return null;
  const e: Entity = { id, types: [...record.types], createdAt: now, modifiedAt: now, attrs: {} };
  if (record.scope !== undefined) e.scope = [...record.scope];
  return e;
}

/** The write of a temporal payload: the new current state and the recorded instances, in one decision. */
function provision(start: Entity | null, id: string, parsed: ParsedTemporalEntity, now: string): WriteDecision<void> {
  const instances = temporalInstances(parsed, now, newInstanceId);
  const after = applyTemporal(start, id, parsed, instances, now);
  if (after.types.length === 0) throw badRequestData(`Entity ${id} has no type: give "type"`, 'Invalid temporal entity');
  if (!(SCOPE_ATTR in parsed.attrs)) {
    const scope = scopeChange(start?.scope, after.scope, now, newInstanceId);
    if (scope !== null) instances.push(scope);
  }
  const history: HistoryWrite = { entity: temporalRecord(after), instances };
  return { put: after, history, result: undefined };
}

function notFoundEntity(id: string): never {
  throw notFound(`Entity ${id} was not found`, 'Entity not found');
}

export function createTemporalService(deps: TemporalServiceDeps) {
  const { store, temporal, clock, limits } = deps;

  return {
    /** POST /temporal/entities: true when the entity is new (201), false when instances were added (204). */
    async create(tenant: TenantId, body: JsonObject, terms: TermMap): Promise<boolean> {
      const parsed = parseTemporalEntity(body, terms, limits, 'create');
      const id = parsed.id!;
      const record = await temporal.getTemporalEntity(tenant, id);
      let created = false;
      await store.writeEntity(
        tenant,
        id,
        (current) => {
          const now = clock.nowIso();
          const start = startingPoint(current, record, id, now);
          created = start === null;
          return provision(start, id, parsed, now);
        },
        { createTenant: true },
      );
      return created;
    },

    /** POST /temporal/entities/{id}/attrs: 404 for an entity neither current nor recorded. */
    async addAttrs(tenant: TenantId, id: string, body: JsonObject, terms: TermMap): Promise<void> {
      const parsed = parseTemporalEntity(body, terms, limits, 'fragment', id);
      if (Object.keys(parsed.attrs).length === 0) throw badRequestData('The fragment holds no attribute instance', 'Invalid temporal entity');
      const record = await temporal.getTemporalEntity(tenant, id);
      await store.writeEntity(
        tenant,
        id,
        (current) => {
          const now = clock.nowIso();
          const start = startingPoint(current, record, id, now);
          if (start === null) notFoundEntity(id);
          return provision(start, id, parsed, now);
        },
        { createTenant: false },
      );
    },

    /** DELETE /temporal/entities/{id}: the whole history and the current entity. */
    async deleteEntity(tenant: TenantId, id: string): Promise<void> {
      const record = await temporal.getTemporalEntity(tenant, id);
      await store.writeEntity(
        tenant,
        id,
        (current): WriteDecision<void> => {
          if (!isLive(current, clock.nowIso()) && record === null) notFoundEntity(id);
          const history: HistoryWrite = { drop: { kind: 'entity' }, instances: [] };
          return current !== null ? { remove: true, history, result: undefined } : { history, result: undefined };
        },
        { createTenant: false },
      );
    },

    /**
     * DELETE /temporal/entities/{id}/attrs/{attr}: the history of the default instance (or of `datasetId`, or
     * of every instance with deleteAll), and that instance of the current entity. 404 when neither the
     * history nor the current entity has it.
     */
    async deleteAttr(tenant: TenantId, id: string, attr: string, options: { datasetId?: string; deleteAll: boolean }): Promise<void> {
      const record = await temporal.getTemporalEntity(tenant, id);
      const datasetIds = options.deleteAll ? undefined : [options.datasetId ?? '@none'];
      const recorded = await temporal.queryTemporal(
        tenant,
        { selectors: [{ ids: [id] }], attrs: [attr], ...(datasetIds ? { datasetIds } : {}), window: { property: 'modifiedAt' } },
        { instanceLimit: 1 },
        { limit: 1, offset: 0, count: false },
      );
      const hasHistory = recorded.entities.some((e) => (e.attrs[attr]?.length ?? 0) > 0);
      await store.writeEntity(
        tenant,
        id,
        (current): WriteDecision<void> => {
          const now = clock.nowIso();
          const live = isLive(current, now) ? current : null;
          if (live === null && record === null) notFoundEntity(id);
          const after = live === null ? null : withoutAttr(live, attr, options, now);
          if (!hasHistory && (after === null || after === live)) throw notFound(`Attribute ${attr} of entity ${id} has no history`, 'Attribute not found');
          const history: HistoryWrite = {
            drop: { kind: 'attribute', attr, ...(options.datasetId !== undefined ? { datasetId: options.datasetId } : {}), all: options.deleteAll },
            entity: after !== null ? temporalRecord(after) : record!,
            instances: [],
          };
          return after !== null && after !== live ? { put: after, history, result: undefined } : { history, result: undefined };
        },
        { createTenant: false },
      );
    },

    /** PATCH /temporal/entities/{id}/attrs/{attr}/{instanceId}: the body holds that attribute, one instance. */
    async patchInstance(tenant: TenantId, id: string, attr: string, instanceId: string, body: JsonObject, terms: TermMap): Promise<void> {
      const parsed = parseTemporalEntity(body, terms, limits, 'fragment', id);
      const names = Object.keys(parsed.attrs);
      if (names.length !== 1 || names[0] !== attr || parsed.attrs[attr]!.length !== 1) {
        throw badRequestData(`The body must hold exactly one instance of the attribute ${terms.compactIri(attr)}`, 'Invalid temporal entity');
      }
      const now = clock.nowIso();
      const [h] = temporalInstances({ ...parsed, types: [], attrs: { [attr]: parsed.attrs[attr]! } }, now, () => instanceId);
      if (!(await temporal.replaceInstance(tenant, id, attr, h!.instance))) {
        throw notFound(`Entity ${id} has no instance ${instanceId} of attribute ${terms.compactIri(attr)}`, 'Instance not found');
      }
    },

    /** DELETE /temporal/entities/{id}/attrs/{attr}/{instanceId}. */
    async deleteInstance(tenant: TenantId, id: string, attr: string, instanceId: string, label: string): Promise<void> {
      if (!(await temporal.deleteInstance(tenant, id, attr, instanceId))) {
        throw notFound(`Entity ${id} has no instance ${instanceId} of attribute ${label}`, 'Instance not found');
      }
    },
  };
}

/** The entity without the addressed instance(s) of `attr`; the same object when there is none to remove. */
function withoutAttr(entity: Entity, attr: string, options: { datasetId?: string; deleteAll: boolean }, now: string): Entity {
  if (attr === SCOPE_ATTR) {
    if (entity.scope === undefined) return entity;
    const e = structuredClone(entity);
    delete e.scope;
    e.modifiedAt = now;
    return e;
  }
  const list = Object.hasOwn(entity.attrs, attr) ? entity.attrs[attr]! : [];
  const kept = options.deleteAll ? [] : list.filter((i) => i.datasetId !== options.datasetId);
  if (kept.length === list.length) return entity;
  const e = structuredClone(entity);
  if (kept.length > 0) e.attrs[attr] = structuredClone(kept);
  else delete e.attrs[attr];
  e.modifiedAt = now;
  return e;
}

export type TemporalService = ReturnType<typeof createTemporalService>;
