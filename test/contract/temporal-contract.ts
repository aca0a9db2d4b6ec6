// The TemporalStore contract (issue 6 items 0–3; GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4, §4.5.19, §6.3.10):
// one node:test suite every store adapter runs unchanged. History enters through EntityStore writes
// (WriteDecision.history, same transaction) and is read back through the `temporal` port.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchItem, EntityStore, WriteDecision } from '../../src/ports/store.ts';
import type { AggregationRequest, TemporalStore } from '../../src/ports/temporal-store.ts';
import type { PageRequest } from '../../src/core/query/entity-query.ts';
import type { JsonValue } from '../../src/core/json.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import type {
  AggregateSeries,
  AggregationMethod,
  HistoryDrop,
  HistoryInstance,
  RecordedInstance,
  TemporalEntityAggregates,
  TemporalEntityInstances,
  TemporalSelection,
  TimeWindow,
} from '../../src/core/temporal/model.ts';
import { SCOPE_ATTR } from '../../src/core/temporal/model.ts';
import type { TypeExpr } from '../../src/core/query/type-expr.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import { NgsiError } from '../../src/core/errors.ts';

export type TemporalCapableStore = EntityStore & { temporal: TemporalStore };
export type TemporalStoreFactory = () => Promise<{ store: TemporalCapableStore; cleanup: () => Promise<void> }>;

const BASE = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
/** The instant `h` hours after 2024-01-01T00:00:00Z, in epoch ms. */
const ms = (h: number): number => BASE + h * HOUR;
/** The same as ISO text. */
const at = (h: number): string => new Date(ms(h)).toISOString();

const T_ROOM = 'https://example.org/Room';
const T_SENSOR = 'https://example.org/Sensor';
const TEMP = 'https://example.org/temperature';
const HUM = 'https://example.org/humidity';
const NAME = 'https://example.org/name';
const OWNER = 'https://example.org/owner';

let instanceSeq = 0;
const nextInstanceId = (): string => `urn:ngsi-ld:${String(++instanceSeq).padStart(8, '0')}-0000-4000-8000-000000000000`;

interface InstanceOptions {
  /** Hours for observedAt; null: no observedAt. Default: none. */
  obs?: number | null;
  /** Hours for createdAt (default 0) and modifiedAt (default = obs, else createdAt). */
  created?: number;
  modified?: number;
  deleted?: number;
  datasetId?: string;
}

function prop(value: JsonValue, o: InstanceOptions = {}): RecordedInstance {
  const i: RecordedInstance = {
    type: 'Property',
    value,
    instanceId: nextInstanceId(),
    createdAt: at(o.created ?? 0),
    modifiedAt: at(o.modified ?? (typeof o.obs === 'number' ? o.obs : (o.created ?? 0))),
  };
  if (typeof o.obs === 'number') i.observedAt = at(o.obs);
  if (o.datasetId !== undefined) i.datasetId = o.datasetId;
  if (o.deleted !== undefined) i.deletedAt = at(o.deleted);
  return i;
}

function rel(object: string, o: InstanceOptions = {}): RecordedInstance {
  const { value: _v, ...rest } = prop(0, o);
  return { ...rest, type: 'Relationship', object };
}

/** A deletion instance (§15.1 of the guide): the kind's NGSI-LD Null, with deletedAt. */
function deletion(o: InstanceOptions & { deleted: number }): RecordedInstance {
  return prop('urn:ngsi-ld:null', o);
}

const h = (attr: string, instance: RecordedInstance): HistoryInstance => ({ attr, instance });

interface RecordOptions {
  types?: string[];
  scope?: string[];
  deletedAt?: string;
  drop?: HistoryDrop;
  /** Also put the entity (default true): history written by an ordinary entity write. */
  put?: boolean;
  /** Omit the record (only with a drop of kind 'entity'). */
  noRecord?: boolean;
}

function decision(id: string, instances: HistoryInstance[], o: RecordOptions = {}): WriteDecision<string> {
  const types = o.types ?? [T_ROOM];
  const d: WriteDecision<string> = {
    result: 'ok',
    history: { instances },
  };
  if (o.put !== false) {
    const e: Entity = { id, types, createdAt: at(0), modifiedAt: at(0), attrs: {} };
    d.put = e;
  }
  if (o.drop !== undefined) d.history!.drop = o.drop;
  if (o.noRecord !== true) {
    d.history!.entity = { id, types, createdAt: at(0), modifiedAt: at(0) };
    if (o.scope !== undefined) d.history!.entity.scope = o.scope;
    if (o.deletedAt !== undefined) d.history!.entity.deletedAt = o.deletedAt;
  }
  return d;
}

const CREATE = { createTenant: true };
const PAGE: PageRequest = { limit: 100, offset: 0, count: false };
const ALL_TIME: TimeWindow = { property: 'observedAt' };

function selection(over: Partial<TemporalSelection> = {}): TemporalSelection {
  return { window: ALL_TIME, ...over };
}

function entityOf<T extends { entity: { id: string } }>(page: { entities: T[] }, id: string): T {
  const found = page.entities.find((e) => e.entity.id === id);
  assert.ok(found !== undefined, `entity ${id} is in the answer`);
  return found;
}

const values = (e: TemporalEntityInstances, attr: string): (JsonValue | undefined)[] => (e.attrs[attr] ?? []).map((i) => i.value);
const ids = (page: { entities: { entity: { id: string } }[] }): string[] => page.entities.map((e) => e.entity.id);

/** Series as [value, start hour, end hour] triples, readable in assertions. */
function triples(series: AggregateSeries | undefined): [number | string | null, number, number][] {
  assert.ok(series !== undefined, 'the series is present');
  return series.map((s) => [s.value, (s.startMs - BASE) / HOUR, (s.endMs - BASE) / HOUR]);
}

/** Registers the contract; `makeStore` must return a fresh, empty store on every call. */
export function runTemporalStoreContract(name: string, makeStore: TemporalStoreFactory): void {
  describe(`TemporalStore contract: ${name}`, () => {
    let store: TemporalCapableStore;
    let temporal: TemporalStore;
    let cleanup: () => Promise<void>;
    const tA = parseTenant('tenant_a');
    const tB = parseTenant('tenant-b');

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      temporal = store.temporal;
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const record = (tenant: TenantId, id: string, instances: HistoryInstance[], o: RecordOptions = {}): Promise<string> =>
      store.writeEntity(tenant, id, () => decision(id, instances, o), CREATE);

    const query = (
      tenant: TenantId,
      sel: Partial<TemporalSelection> = {},
      req: { lastN?: number; instanceLimit?: number } = {},
      page: PageRequest = PAGE,
    ) => temporal.queryTemporal(tenant, selection(sel), { instanceLimit: req.instanceLimit ?? 1000, ...(req.lastN === undefined ? {} : { lastN: req.lastN }) }, page);

    const aggregate = (
      tenant: TenantId,
      methods: AggregationMethod[],
      period: AggregationRequest['period'],
      sel: Partial<TemporalSelection> = {},
      page: PageRequest = PAGE,
    ) => temporal.aggregateTemporal(tenant, selection(sel), { methods, period }, page);

    describe('recording', () => {
      it('appends history in the entity write and reads back the record and deep-equal instances', async () => {
        const a = prop(20.5, { obs: 1 });
        const b = { ...prop({ nested: [1, 'two', null, true] }, { obs: 2, datasetId: 'urn:ds:1' }), unitCode: 'CEL' };
        const c = rel('urn:ngsi-ld:Person:1', { obs: 3 });
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, a), h(TEMP, b), h(OWNER, c)], { scope: ['/a/b'] });
        assert.deepStrictEqual(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'), {
          id: 'urn:e:1',
          types: [T_ROOM],
          scope: ['/a/b'],
          createdAt: at(0),
          modifiedAt: at(0),
        });
        const page = await query(DEFAULT_TENANT);
        assert.deepStrictEqual(ids(page), ['urn:e:1']);
        const e = page.entities[0];
        assert.equal(e.truncated, false);
        assert.deepStrictEqual(e.attrs, { [TEMP]: [a, b], [OWNER]: [c] });
        assert.equal(page.total, undefined);
      });

      it('returns null for an unknown entity and an empty page for an unknown tenant', async () => {
        assert.equal(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:none'), null);
        assert.deepStrictEqual((await query(parseTenant('nobody'), {}, {}, { ...PAGE, count: true })).entities, []);
        assert.equal((await query(parseTenant('nobody'), {}, {}, { ...PAGE, count: true })).total, 0);
      });

      it('writes nothing when decide throws, and nothing of a batch an unexpected error aborts', async () => {
        await assert.rejects(
          store.writeEntity(
            DEFAULT_TENANT,
            'urn:e:1',
            () => {
              throw new NgsiError('AlreadyExists', 'no');
            },
            CREATE,
          ),
        );
        const items: BatchItem<string>[] = [
          { id: 'urn:e:1', decide: () => decision('urn:e:1', [h(TEMP, prop(1, { obs: 1 }))]) },
          {
            id: 'urn:e:2',
            decide: () => {
              throw new Error('boom');
            },
          },
        ];
        await assert.rejects(store.writeEntities(DEFAULT_TENANT, items, CREATE), /boom/);
        assert.equal(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'), null);
        assert.deepStrictEqual((await query(DEFAULT_TENANT)).entities, []);
      });

      it('writes the history of each successful batch item; a refused item records nothing', async () => {
        const items: BatchItem<string>[] = [
          { id: 'urn:e:1', decide: () => decision('urn:e:1', [h(TEMP, prop(1, { obs: 1 }))]) },
          {
            id: 'urn:e:2',
            decide: () => {
              throw new NgsiError('AlreadyExists', 'no');
            },
          },
          { id: 'urn:e:3', decide: () => decision('urn:e:3', [h(TEMP, prop(3, { obs: 1 }))]) },
          // The same id again: appended after the first item's instances.
          { id: 'urn:e:1', decide: () => decision('urn:e:1', [h(TEMP, prop(2, { obs: 2 }))], { types: [T_SENSOR] }) },
        ];
        const outcomes = await store.writeEntities(DEFAULT_TENANT, items, CREATE);
        assert.deepStrictEqual(outcomes.map((o) => o.ok), [true, false, true, true]);
        const page = await query(DEFAULT_TENANT);
        assert.deepStrictEqual(ids(page), ['urn:e:1', 'urn:e:3']);
        assert.deepStrictEqual(values(entityOf(page, 'urn:e:1'), TEMP), [1, 2]);
        assert.deepStrictEqual(entityOf(page, 'urn:e:1').entity.types, [T_ROOM, T_SENSOR]);
        assert.equal(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:2'), null);
      });

      it('records history of a write that neither puts nor removes the entity', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 }))], { put: false });
        assert.equal(await store.getEntity(DEFAULT_TENANT, 'urn:e:1'), null);
        assert.deepStrictEqual(values((await query(DEFAULT_TENANT)).entities[0], TEMP), [1]);
      });

      it('keeps the history when the entity is removed, with the record deletedAt as given', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 }))]);
        await store.writeEntity(
          DEFAULT_TENANT,
          'urn:e:1',
          () => ({
            remove: true,
            result: 'gone',
            history: {
              entity: { id: 'urn:e:1', types: [T_ROOM], createdAt: at(0), modifiedAt: at(5), deletedAt: at(5) },
              instances: [h(TEMP, deletion({ deleted: 5, modified: 5 }))],
            },
          }),
          CREATE,
        );
        assert.equal(await store.getEntity(DEFAULT_TENANT, 'urn:e:1'), null);
        const rec = await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1');
        assert.equal(rec?.deletedAt, at(5));
        assert.equal(rec?.modifiedAt, at(5));
        const deleted = await query(DEFAULT_TENANT, { window: { property: 'deletedAt' } });
        assert.deepStrictEqual(values(deleted.entities[0], TEMP), ['urn:ngsi-ld:null']);
        // Re-created: deletedAt absent again, history continues.
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(2, { obs: 6 }))]);
        assert.equal((await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'))?.deletedAt, undefined);
        assert.deepStrictEqual(values((await query(DEFAULT_TENANT)).entities[0], TEMP), [1, 2]);
      });

      it('unions types, stored ones first then new ones in order; scope is replaced as given', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 }))], { types: [T_ROOM, 'urn:T:b'], scope: ['/x'] });
        await record(DEFAULT_TENANT, 'urn:e:1', [], { types: ['urn:T:c', T_ROOM, 'urn:T:a'] });
        const rec = await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1');
        assert.deepStrictEqual(rec?.types, [T_ROOM, 'urn:T:b', 'urn:T:c', 'urn:T:a']);
        assert.equal(rec?.scope, undefined);
      });

      it('drops the whole history of an entity, and deletes the record when none is given', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 })), h(HUM, prop(2, { obs: 1 }))]);
        await record(DEFAULT_TENANT, 'urn:e:2', [h(TEMP, prop(9, { obs: 1 }))]);
        await record(DEFAULT_TENANT, 'urn:e:1', [], { put: false, drop: { kind: 'entity' }, noRecord: true });
        assert.equal(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'), null);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT)), ['urn:e:2']);
      });

      it('a drop of the entity followed by a record starts afresh: old types and instances are gone', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 }))], { types: ['urn:T:old'] });
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(2, { obs: 2 }))], { types: [T_ROOM], drop: { kind: 'entity' } });
        assert.deepStrictEqual((await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'))?.types, [T_ROOM]);
        assert.deepStrictEqual(values((await query(DEFAULT_TENANT)).entities[0], TEMP), [2]);
      });

      it('drops an attribute: the default instances only, one datasetId, or all of them', async () => {
        const seed = (): HistoryInstance[] => [
          h(TEMP, prop('default', { obs: 1 })),
          h(TEMP, prop('ds1', { obs: 1, datasetId: 'urn:ds:1' })),
          h(TEMP, prop('ds2', { obs: 1, datasetId: 'urn:ds:2' })),
          h(HUM, prop('other', { obs: 1 })),
        ];
        const left = async (): Promise<(JsonValue | undefined)[]> => {
          const page = await query(DEFAULT_TENANT);
          const e = page.entities[0];
          return [...values(e, TEMP), ...values(e, HUM)];
        };
        await record(DEFAULT_TENANT, 'urn:e:1', seed());
        await record(DEFAULT_TENANT, 'urn:e:1', [], { drop: { kind: 'attribute', attr: TEMP, all: false } });
        assert.deepStrictEqual(await left(), ['ds1', 'ds2', 'other']);
        await record(DEFAULT_TENANT, 'urn:e:1', [], { drop: { kind: 'attribute', attr: TEMP, datasetId: 'urn:ds:2', all: false } });
        assert.deepStrictEqual(await left(), ['ds1', 'other']);
        await record(DEFAULT_TENANT, 'urn:e:1', seed(), { drop: { kind: 'attribute', attr: TEMP, all: true } });
        assert.deepStrictEqual(await left(), ['default', 'ds1', 'ds2', 'other', 'other']);
        await record(DEFAULT_TENANT, 'urn:e:1', [], { drop: { kind: 'attribute', attr: TEMP, all: true } });
        assert.deepStrictEqual(await left(), ['other', 'other']);
      });

      it('round-trips unicode and hostile text in ids, attribute names and values', async () => {
        const id = 'urn:e:ünï\u{1F600}\'";--';
        const attr = 'https://example.org/ä"b\\c';
        const v = 'quote " backslash \\ nul \u0000 emoji \u{1F600} \u2028';
        const i = prop(v, { obs: 1 });
        await record(DEFAULT_TENANT, id, [h(attr, i)]);
        const page = await query(DEFAULT_TENANT, { selectors: [{ ids: [id] }], attrs: [attr] });
        assert.deepStrictEqual(page.entities[0].attrs, { [attr]: [i] });
      });
    });

    describe('selection', () => {
      beforeEach(async () => {
        await record(DEFAULT_TENANT, 'urn:ngsi-ld:Room:1', [h(TEMP, prop(1, { obs: 1 })), h(HUM, prop(50, { obs: 1 }))], { types: [T_ROOM], scope: ['/Madrid/Gardens'] });
        await record(DEFAULT_TENANT, 'urn:ngsi-ld:Room:2', [h(TEMP, prop(2, { obs: 2 }))], { types: [T_ROOM, T_SENSOR], scope: ['/Madrid/Parks/North'] });
        await record(DEFAULT_TENANT, 'urn:ngsi-ld:Sensor:3', [h(HUM, prop(60, { obs: 3 })), h(SCOPE_ATTR, prop(['/Berlin'], { obs: 3 }))], { types: [T_SENSOR], scope: ['/Berlin'] });
        await record(DEFAULT_TENANT, 'urn:ngsi-ld:Room:4', [h(NAME, prop('no observedAt'))], { types: [T_ROOM] });
      });

      it('lists every entity with an instance in the window, in first-recording order', async () => {
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT)), ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Room:2', 'urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { window: { property: 'createdAt' } })), [
          'urn:ngsi-ld:Room:1',
          'urn:ngsi-ld:Room:2',
          'urn:ngsi-ld:Sensor:3',
          'urn:ngsi-ld:Room:4',
        ]);
      });

      it('selects by id list, idPattern (id wins over idPattern) and OR of selectors', async () => {
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { selectors: [{ ids: ['urn:ngsi-ld:Sensor:3', 'urn:x'] }] })), ['urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { selectors: [{ idPattern: { source: '^urn:ngsi-ld:Room:[12]$' } }] })), [
          'urn:ngsi-ld:Room:1',
          'urn:ngsi-ld:Room:2',
        ]);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { selectors: [{ idPattern: { source: 'Sensor' } }] })), ['urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(
          ids(await query(DEFAULT_TENANT, { selectors: [{ ids: ['urn:ngsi-ld:Room:1'], idPattern: { source: 'Sensor' } }] })),
          ['urn:ngsi-ld:Room:1'],
        );
        assert.deepStrictEqual(
          ids(await query(DEFAULT_TENANT, { selectors: [{ ids: ['urn:ngsi-ld:Room:2'] }, { idPattern: { source: 'Sensor' } }] })),
          ['urn:ngsi-ld:Room:2', 'urn:ngsi-ld:Sensor:3'],
        );
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { selectors: [{ ids: [] }] })), []);
      });

      it('selects by type expressions on the recorded types', async () => {
        const byType = async (type: TypeExpr) => ids(await query(DEFAULT_TENANT, { selectors: [{ type }] }));
        assert.deepStrictEqual(await byType({ op: 'type', name: T_SENSOR }), ['urn:ngsi-ld:Room:2', 'urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(
          await byType({ op: 'and', items: [{ op: 'type', name: T_SENSOR }, { op: 'type', name: T_ROOM }] }),
          ['urn:ngsi-ld:Room:2'],
        );
        assert.deepStrictEqual(
          await byType({ op: 'or', items: [{ op: 'type', name: 'urn:none' }, { op: 'type', name: T_ROOM }] }),
          ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Room:2'],
        );
        assert.deepStrictEqual(await byType({ op: 'any' }), ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Room:2', 'urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(
          ids(await query(DEFAULT_TENANT, { selectors: [{ type: { op: 'type', name: T_SENSOR }, idPattern: { source: 'Room' } }] })),
          ['urn:ngsi-ld:Room:2'],
        );
      });

      it('returns only the selected attributes and lists only entities having one', async () => {
        const page = await query(DEFAULT_TENANT, { attrs: [HUM] });
        assert.deepStrictEqual(ids(page), ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(Object.keys(page.entities[0].attrs), [HUM]);
        assert.deepStrictEqual(values(page.entities[1], HUM), [60]);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { attrs: ['urn:never'] })), []);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { attrs: [] })), []);
        const scoped = await query(DEFAULT_TENANT, { attrs: [SCOPE_ATTR] });
        assert.deepStrictEqual(values(scoped.entities[0], SCOPE_ATTR), [['/Berlin']]);
      });

      it('filters on the record scope with scopeQ', async () => {
        const byScope = async (scopeQ: TemporalSelection['scopeQ']) => ids(await query(DEFAULT_TENANT, { scopeQ }));
        assert.deepStrictEqual(await byScope({ type: 'scope', levels: ['Madrid'], descendants: true }), ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Room:2']);
        assert.deepStrictEqual(await byScope({ type: 'scope', levels: ['Madrid', '+'], descendants: false }), ['urn:ngsi-ld:Room:1']);
        assert.deepStrictEqual(await byScope({ type: 'scope', levels: ['Madrid', '+', 'North'], descendants: false }), ['urn:ngsi-ld:Room:2']);
        assert.deepStrictEqual(await byScope({ type: 'any' }), ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Room:2', 'urn:ngsi-ld:Sensor:3']);
        assert.deepStrictEqual(
          await byScope({
            type: 'or',
            items: [
              { type: 'scope', levels: ['Berlin'], descendants: false },
              { type: 'scope', levels: ['Madrid', 'Gardens'], descendants: false },
            ],
          }),
          ['urn:ngsi-ld:Room:1', 'urn:ngsi-ld:Sensor:3'],
        );
        assert.deepStrictEqual(
          await byScope({
            type: 'and',
            items: [
              { type: 'scope', levels: ['Berlin'], descendants: false },
              { type: 'scope', levels: ['Madrid'], descendants: true },
            ],
          }),
          [],
        );
      });

      it('filters instances by datasetId, @none standing for the default instance', async () => {
        await record(DEFAULT_TENANT, 'urn:ngsi-ld:Room:1', [h(TEMP, prop('d1', { obs: 4, datasetId: 'urn:ds:1' })), h(TEMP, prop('d2', { obs: 5, datasetId: 'urn:ds:2' }))]);
        const vals = async (datasetIds: string[]) => {
          const page = await query(DEFAULT_TENANT, { datasetIds, selectors: [{ ids: ['urn:ngsi-ld:Room:1'] }] });
          return page.entities.length === 0 ? null : values(page.entities[0], TEMP);
        };
        assert.deepStrictEqual(await vals(['urn:ds:1']), ['d1']);
        assert.deepStrictEqual(await vals(['@none']), [1]);
        assert.deepStrictEqual(await vals(['@none', 'urn:ds:2']), [1, 'd2']);
        assert.equal(await vals(['urn:ds:none']), null);
      });

      it('pages entities in a stable order with limit, offset and count', async () => {
        const all = ids(await query(DEFAULT_TENANT));
        const seen: string[] = [];
        for (let offset = 0; offset < 5; offset += 2) {
          const page = await query(DEFAULT_TENANT, {}, {}, { limit: 2, offset, count: true });
          assert.equal(page.total, 3);
          seen.push(...ids(page));
        }
        assert.deepStrictEqual(seen, all);
        const counted = await query(DEFAULT_TENANT, { attrs: [HUM] }, {}, { limit: 1, offset: 0, count: true });
        assert.deepStrictEqual([ids(counted), counted.total], [['urn:ngsi-ld:Room:1'], 2]);
        const beyond = await query(DEFAULT_TENANT, {}, {}, { limit: 10, offset: 10, count: true });
        assert.deepStrictEqual([beyond.entities, beyond.total], [[], 3]);
      });
    });

    describe('time window', () => {
      // Instances at hours 0, 1, 2, 3, 4 plus one without observedAt.
      beforeEach(async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [...[0, 1, 2, 3, 4].map((k) => h(TEMP, prop(k, { obs: k, created: 10 + k }))), h(TEMP, prop('none', { created: 20 }))]);
      });
      const temps = async (window: TimeWindow): Promise<(JsonValue | undefined)[]> => {
        const page = await query(DEFAULT_TENANT, { window });
        return page.entities.length === 0 ? [] : values(page.entities[0], TEMP);
      };

      it('before is exclusive, after inclusive, between half-open; instances lacking the property never match', async () => {
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'before', toMs: ms(2) }), [0, 1]);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'after', fromMs: ms(2) }), [2, 3, 4]);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'between', fromMs: ms(1), toMs: ms(3) }), [1, 2]);
        assert.deepStrictEqual(await temps({ property: 'observedAt' }), [0, 1, 2, 3, 4]);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'between', fromMs: ms(1) + 1, toMs: ms(2) }), []);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'after', fromMs: ms(5) }), []);
      });

      it('compares instants, whatever the fraction digits of the recorded text', async () => {
        const odd = prop('odd', { obs: 7 });
        odd.observedAt = '2024-01-01T07:00:00.5Z';
        const plain = prop('plain', { obs: 8 });
        plain.observedAt = '2024-01-01T08:00:00Z';
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, odd), h(TEMP, plain)]);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'after', fromMs: ms(7) + 500 }), ['odd', 'plain']);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'after', fromMs: ms(7) + 501 }), ['plain']);
        assert.deepStrictEqual(await temps({ property: 'observedAt', rel: 'before', toMs: ms(8) }), [0, 1, 2, 3, 4, 'odd']);
      });

      it('windows on createdAt, modifiedAt and deletedAt', async () => {
        assert.deepStrictEqual(await temps({ property: 'createdAt', rel: 'after', fromMs: ms(13) }), [3, 4, 'none']);
        assert.deepStrictEqual(await temps({ property: 'modifiedAt', rel: 'before', toMs: ms(2) }), [0, 1]);
        assert.deepStrictEqual(await temps({ property: 'deletedAt' }), []);
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, deletion({ obs: 9, deleted: 9 }))]);
        assert.deepStrictEqual(await temps({ property: 'deletedAt' }), ['urn:ngsi-ld:null']);
        assert.deepStrictEqual(await temps({ property: 'deletedAt', rel: 'before', toMs: ms(9) }), []);
      });

      it('lists an entity only when it has a selected instance inside the window', async () => {
        await record(DEFAULT_TENANT, 'urn:e:2', [h(HUM, prop(1, { obs: 100 })), h(TEMP, prop(1, { obs: 0 }))]);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { window: { property: 'observedAt', rel: 'after', fromMs: ms(50) } })), ['urn:e:2']);
        assert.deepStrictEqual(ids(await query(DEFAULT_TENANT, { attrs: [TEMP], window: { property: 'observedAt', rel: 'after', fromMs: ms(50) } })), []);
      });
    });

    describe('instance order, lastN and the cap', () => {
      beforeEach(async () => {
        // Recorded out of time order, with a tie at hour 5 (recording order breaks it).
        const hours = [5, 1, 9, 3, 7, 5, 2, 8, 4, 6];
        await record(DEFAULT_TENANT, 'urn:e:1', hours.map((k, n) => h(TEMP, prop(`${k}.${n}`, { obs: k }))));
        await record(DEFAULT_TENANT, 'urn:e:1', [h(HUM, prop('h1', { obs: 1 })), h(HUM, prop('h2', { obs: 2 }))]);
      });
      const run = async (req: { lastN?: number; instanceLimit?: number }, window: TimeWindow = ALL_TIME) => {
        const e = (await query(DEFAULT_TENANT, { window }, req)).entities[0];
        return { temp: values(e, TEMP), hum: values(e, HUM), truncated: e.truncated };
      };

      it('returns instances ascending by the window time property, ties in recording order', async () => {
        const r = await run({});
        assert.deepStrictEqual(r.temp, ['1.1', '2.6', '3.3', '4.8', '5.0', '5.5', '6.9', '7.4', '8.7', '9.2']);
        assert.equal(r.truncated, false);
      });

      it('keeps the n most recent instances per attribute with lastN, still ascending', async () => {
        assert.deepStrictEqual(await run({ lastN: 3 }), { temp: ['7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
        assert.deepStrictEqual(await run({ lastN: 1 }), { temp: ['9.2'], hum: ['h2'], truncated: false });
        assert.deepStrictEqual((await run({ lastN: 5 })).temp, ['5.0', '5.5', '6.9', '7.4', '8.7', '9.2'].slice(1));
        assert.deepStrictEqual((await run({ lastN: 4 }, { property: 'observedAt', rel: 'before', toMs: ms(6) })).temp, ['3.3', '4.8', '5.0', '5.5']);
        assert.deepStrictEqual(await run({ lastN: 50 }), { temp: ['1.1', '2.6', '3.3', '4.8', '5.0', '5.5', '6.9', '7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
      });

      it('caps each attribute exactly at a small limit, the oldest kept, and flags the cut', async () => {
        assert.deepStrictEqual(await run({ instanceLimit: 3 }), { temp: ['1.1', '2.6', '3.3'], hum: ['h1', 'h2'], truncated: true });
        assert.deepStrictEqual(await run({ instanceLimit: 10 }), { temp: ['1.1', '2.6', '3.3', '4.8', '5.0', '5.5', '6.9', '7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
        assert.deepStrictEqual((await run({ instanceLimit: 9 })).truncated, true);
        assert.deepStrictEqual(await run({ instanceLimit: 2 }, { property: 'observedAt', rel: 'after', fromMs: ms(8) }), { temp: ['8.7', '9.2'], hum: [], truncated: false });
      });

      it('with lastN above the cap keeps the newest cap instances and flags the cut; within the cap it does not', async () => {
        assert.deepStrictEqual(await run({ lastN: 5, instanceLimit: 3 }), { temp: ['7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: true });
        assert.deepStrictEqual(await run({ lastN: 3, instanceLimit: 3 }), { temp: ['7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
        assert.deepStrictEqual(await run({ lastN: 2, instanceLimit: 3 }), { temp: ['8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
        assert.deepStrictEqual(await run({ lastN: 50, instanceLimit: 10 }), { temp: ['1.1', '2.6', '3.3', '4.8', '5.0', '5.5', '6.9', '7.4', '8.7', '9.2'], hum: ['h1', 'h2'], truncated: false });
        assert.equal((await run({ lastN: 50, instanceLimit: 9 })).truncated, true);
      });

      it('caps every entity of a page independently', async () => {
        await record(DEFAULT_TENANT, 'urn:e:2', [h(TEMP, prop('a', { obs: 1 })), h(TEMP, prop('b', { obs: 2 }))]);
        const page = await query(DEFAULT_TENANT, {}, { instanceLimit: 2 });
        assert.deepStrictEqual(page.entities.map((e) => [e.entity.id, e.truncated, values(e, TEMP)]), [
          ['urn:e:1', true, ['1.1', '2.6']],
          ['urn:e:2', false, ['a', 'b']],
        ]);
      });
    });

    describe('tenants', () => {
      it('isolates tenants: same ids and instances never cross, reads and corrections included', async () => {
        const a = prop('A', { obs: 1 });
        const b = prop('B', { obs: 1 });
        await record(tA, 'urn:e:1', [h(TEMP, a)], { types: ['urn:T:a'] });
        await record(tB, 'urn:e:1', [h(TEMP, b)], { types: ['urn:T:b'] });
        assert.deepStrictEqual((await temporal.getTemporalEntity(tA, 'urn:e:1'))?.types, ['urn:T:a']);
        assert.deepStrictEqual(values((await query(tA)).entities[0], TEMP), ['A']);
        assert.deepStrictEqual(values((await query(tB)).entities[0], TEMP), ['B']);
        assert.deepStrictEqual((await query(DEFAULT_TENANT)).entities, []);
        const agg = await aggregate(tB, ['totalCount'], null);
        assert.deepStrictEqual(agg.entities.map((e) => e.entity.types), [['urn:T:b']]);
        // Another tenant's instance id is unknown here.
        assert.equal(await temporal.replaceInstance(tB, 'urn:e:1', TEMP, { ...a, value: 'hacked' }), false);
        assert.equal(await temporal.deleteInstance(tB, 'urn:e:1', TEMP, a.instanceId), false);
        assert.deepStrictEqual(values((await query(tA)).entities[0], TEMP), ['A']);
        // A drop in one tenant leaves the other alone.
        await record(tB, 'urn:e:1', [], { put: false, drop: { kind: 'entity' }, noRecord: true });
        assert.deepStrictEqual(values((await query(tA)).entities[0], TEMP), ['A']);
        assert.equal(await temporal.getTemporalEntity(tB, 'urn:e:1'), null);
      });
    });

    describe('corrections and retention', () => {
      it('replaces one instance keeping its instanceId, and deletes one; unknown ones answer false', async () => {
        const a = prop(1, { obs: 1 });
        const b = prop(2, { obs: 2 });
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, a), h(TEMP, b)]);
        const corrected: RecordedInstance = { ...a, value: 100, observedAt: at(3), unitCode: 'CEL' };
        assert.equal(await temporal.replaceInstance(DEFAULT_TENANT, 'urn:e:1', TEMP, corrected), true);
        let e = (await query(DEFAULT_TENANT)).entities[0];
        assert.deepStrictEqual(e.attrs[TEMP], [b, corrected]);
        // The corrected value is what aggregations see.
        const sum = await aggregate(DEFAULT_TENANT, ['sum'], null);
        assert.equal(sum.entities[0].attrs[TEMP]?.sum?.[0]?.value, 102);
        assert.equal(await temporal.replaceInstance(DEFAULT_TENANT, 'urn:e:1', HUM, corrected), false);
        assert.equal(await temporal.replaceInstance(DEFAULT_TENANT, 'urn:e:2', TEMP, corrected), false);
        assert.equal(await temporal.replaceInstance(DEFAULT_TENANT, 'urn:e:1', TEMP, { ...corrected, instanceId: nextInstanceId() }), false);

        assert.equal(await temporal.deleteInstance(DEFAULT_TENANT, 'urn:e:1', TEMP, b.instanceId), true);
        assert.equal(await temporal.deleteInstance(DEFAULT_TENANT, 'urn:e:1', TEMP, b.instanceId), false);
        assert.equal(await temporal.deleteInstance(DEFAULT_TENANT, 'urn:e:1', HUM, a.instanceId), false);
        e = (await query(DEFAULT_TENANT)).entities[0];
        assert.deepStrictEqual(e.attrs[TEMP], [corrected]);
      });

      it('prunes instances created before a time, across tenants, and answers how many', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [0, 1, 2, 3].map((k) => h(TEMP, prop(k, { obs: k, created: k }))));
        await record(tA, 'urn:e:1', [0, 5].map((k) => h(TEMP, prop(k, { obs: k, created: k }))));
        assert.equal(await temporal.pruneHistory(ms(2)), 3);
        assert.deepStrictEqual(values((await query(DEFAULT_TENANT)).entities[0], TEMP), [2, 3]);
        assert.deepStrictEqual(values((await query(tA)).entities[0], TEMP), [5]);
        assert.equal(await temporal.pruneHistory(ms(2)), 0);
        assert.equal(await temporal.pruneHistory(ms(100)), 3);
        assert.deepStrictEqual((await query(DEFAULT_TENANT)).entities, []);
        // The record outlives its instances.
        assert.notEqual(await temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:1'), null);
      });
    });

    describe('aggregation', () => {
      const series = (page: { entities: TemporalEntityAggregates[] }, id: string, attr: string, m: AggregationMethod) =>
        triples(entityOf(page, id).attrs[attr]?.[m]);

      it('computes every method per fixed bucket from the window start; empty buckets are omitted', async () => {
        // Hour 0: 1, 3 (and 3 again at 0:30); hour 1: none; hour 2: 10.
        await record(DEFAULT_TENANT, 'urn:e:1', [
          h(TEMP, prop(1, { obs: 0 })),
          h(TEMP, prop(3, { obs: 0.25 })),
          h(TEMP, prop(3, { obs: 0.5 })),
          h(TEMP, prop(10, { obs: 2 })),
        ]);
        const all: AggregationMethod[] = ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'];
        const page = await aggregate(DEFAULT_TENANT, all, { months: 0, ms: HOUR }, { window: { property: 'observedAt', rel: 'after', fromMs: ms(0) } });
        const s = (m: AggregationMethod) => series(page, 'urn:e:1', TEMP, m);
        assert.deepStrictEqual(s('totalCount'), [[3, 0, 1], [1, 2, 3]]);
        assert.deepStrictEqual(s('distinctCount'), [[2, 0, 1], [1, 2, 3]]);
        assert.deepStrictEqual(s('sum'), [[7, 0, 1], [10, 2, 3]]);
        assert.deepStrictEqual(s('sumsq'), [[19, 0, 1], [100, 2, 3]]);
        assert.deepStrictEqual(s('min'), [[1, 0, 1], [10, 2, 3]]);
        assert.deepStrictEqual(s('max'), [[3, 0, 1], [10, 2, 3]]);
        const avg = s('avg');
        assert.ok(Math.abs((avg[0][0] as number) - 7 / 3) < 1e-12);
        assert.deepStrictEqual(avg[1], [10, 2, 3]);
        const sd = s('stddev');
        // Population standard deviation of 1, 3, 3: sqrt(8/9).
        assert.ok(Math.abs((sd[0][0] as number) - Math.sqrt(8 / 9)) < 1e-12);
        assert.deepStrictEqual(sd[1], [0, 2, 3]);
        assert.deepStrictEqual(Object.keys(entityOf(page, 'urn:e:1').attrs[TEMP] ?? {}).sort(), [...all].sort());
      });

      it('starts buckets at the window lower bound, else at the oldest counted instance', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1.5 })), h(TEMP, prop(2, { obs: 2.2 })), h(TEMP, prop(4, { obs: 4 }))]);
        const fromWindow = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 2 * HOUR }, { window: { property: 'observedAt', rel: 'after', fromMs: ms(1) } });
        assert.deepStrictEqual(series(fromWindow, 'urn:e:1', TEMP, 'sum'), [[3, 1, 3], [4, 3, 5]]);
        const fromOldest = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 2 * HOUR });
        assert.deepStrictEqual(series(fromOldest, 'urn:e:1', TEMP, 'sum'), [[3, 1.5, 3.5], [4, 3.5, 5.5]]);
        const before = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 2 * HOUR }, { window: { property: 'observedAt', rel: 'before', toMs: ms(3) } });
        assert.deepStrictEqual(series(before, 'urn:e:1', TEMP, 'sum'), [[3, 1.5, 3.5]]);
      });

      it('without a period (or a zero one) makes one bucket: the window, else oldest to newest + 1 ms', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 1 })), h(TEMP, prop(2, { obs: 5 }))]);
        const open = await aggregate(DEFAULT_TENANT, ['sum'], null);
        assert.deepStrictEqual(entityOf(open, 'urn:e:1').attrs[TEMP]?.sum, [{ value: 3, startMs: ms(1), endMs: ms(5) + 1 }]);
        const zero = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 0 }, { window: { property: 'observedAt', rel: 'between', fromMs: ms(0), toMs: ms(24) } });
        assert.deepStrictEqual(entityOf(zero, 'urn:e:1').attrs[TEMP]?.sum, [{ value: 3, startMs: ms(0), endMs: ms(24) }]);
        const after = await aggregate(DEFAULT_TENANT, ['totalCount'], null, { window: { property: 'observedAt', rel: 'after', fromMs: ms(2) } });
        assert.deepStrictEqual(entityOf(after, 'urn:e:1').attrs[TEMP]?.totalCount, [{ value: 1, startMs: ms(2), endMs: ms(5) + 1 }]);
      });

      it('buckets by calendar months from the origin, omitting empty months', async () => {
        const day = (iso: string, v: number) => {
          const i = prop(v, { obs: 0 });
          i.observedAt = iso;
          return h(TEMP, i);
        };
        await record(DEFAULT_TENANT, 'urn:e:1', [
          day('2024-01-31T00:00:00.000Z', 1),
          day('2024-02-28T23:59:59.999Z', 2),
          day('2024-02-29T00:00:00.000Z', 4),
          day('2024-04-15T00:00:00.000Z', 8),
        ]);
        const fromMs = Date.parse('2024-01-31T00:00:00.000Z');
        const page = await aggregate(DEFAULT_TENANT, ['sum', 'totalCount'], { months: 1, ms: 0 }, { window: { property: 'observedAt', rel: 'after', fromMs } });
        const sum = entityOf(page, 'urn:e:1').attrs[TEMP]?.sum?.map((s) => [s.value, new Date(s.startMs).toISOString().slice(0, 10), new Date(s.endMs).toISOString().slice(0, 10)]);
        // Jan 31 + 1 month = Feb 29 (clamped), + 2 months = Mar 31, + 3 months = Apr 30.
        assert.deepStrictEqual(sum, [
          [3, '2024-01-31', '2024-02-29'],
          [4, '2024-02-29', '2024-03-31'],
          [8, '2024-03-31', '2024-04-30'],
        ]);
        const mixed = await aggregate(DEFAULT_TENANT, ['sum'], { months: 1, ms: 86_400_000 });
        assert.deepStrictEqual(
          entityOf(mixed, 'urn:e:1').attrs[TEMP]?.sum?.map((s) => [s.value, new Date(s.startMs).toISOString().slice(0, 10)]),
          [
            [7, '2024-01-31'],
            [8, '2024-04-02'],
          ],
        );
      });

      it('applies methods by value kind: booleans 1/0, arrays by length, strings min/max, relationships counts only', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [
          h('urn:a:bool', prop(true, { obs: 1 })),
          h('urn:a:bool', prop(false, { obs: 1 })),
          h('urn:a:bool', prop(true, { obs: 1 })),
          h('urn:a:list', prop([1, 2, 3], { obs: 1 })),
          h('urn:a:list', prop([], { obs: 1 })),
          h('urn:a:text', prop('pear', { obs: 1 })),
          h('urn:a:text', prop('apple', { obs: 1 })),
          h('urn:a:text', prop('Zebra', { obs: 1 })),
          h('urn:a:rel', rel('urn:x:1', { obs: 1 })),
          h('urn:a:rel', rel('urn:x:1', { obs: 1 })),
          h('urn:a:rel', rel('urn:x:2', { obs: 1 })),
          h('urn:a:obj', prop({ b: 1, a: 2 }, { obs: 1 })),
          h('urn:a:obj', prop({ a: 2, b: 1 }, { obs: 1 })),
        ]);
        const all: AggregationMethod[] = ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'];
        const page = await aggregate(DEFAULT_TENANT, all, null);
        const attrs = entityOf(page, 'urn:e:1').attrs;
        const flat = (attr: string) =>
          Object.fromEntries(Object.entries(attrs[attr] ?? {}).map(([m, s]) => [m, (s ?? []).map((x) => x.value)]));
        const bool = flat('urn:a:bool');
        assert.deepStrictEqual([bool.totalCount, bool.distinctCount, bool.sum, bool.min, bool.max, bool.sumsq], [[3], [2], [2], [0], [1], [2]]);
        const list = flat('urn:a:list');
        assert.deepStrictEqual([list.sum, list.avg, list.min, list.max, list.distinctCount], [[3], [1.5], [0], [3], [2]]);
        assert.deepStrictEqual(flat('urn:a:text'), { totalCount: [3], distinctCount: [3], min: ['Zebra'], max: ['pear'] });
        assert.deepStrictEqual(flat('urn:a:rel'), { totalCount: [3], distinctCount: [2] });
        // Objects that differ only in member order are one distinct value.
        assert.deepStrictEqual(flat('urn:a:obj'), { totalCount: [2], distinctCount: [1] });
      });

      it('compares strings by code point for min and max', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', ['\u{1F600}', '\uFFFD', 'a', 'é'].map((v) => h(NAME, prop(v, { obs: 1 }))));
        const page = await aggregate(DEFAULT_TENANT, ['min', 'max'], null);
        const a = entityOf(page, 'urn:e:1').attrs[NAME];
        assert.deepStrictEqual([a?.min?.[0]?.value, a?.max?.[0]?.value], ['a', '\u{1F600}']);
      });

      it('does not aggregate deletion instances: a bucket holding only deletions is omitted', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(5, { obs: 0 })), h(TEMP, deletion({ obs: 2, deleted: 2 })), h(TEMP, prop(7, { obs: 3 }))]);
        const page = await aggregate(DEFAULT_TENANT, ['totalCount', 'avg'], { months: 0, ms: HOUR }, { window: { property: 'observedAt', rel: 'after', fromMs: ms(0) } });
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'totalCount'), [[1, 0, 1], [1, 3, 4]]);
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'avg'), [[5, 0, 1], [7, 3, 4]]);
      });

      it('aggregates a mixed attribute per bucket: numbers where the bucket has one, min/max over texts elsewhere, null otherwise', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(4, { obs: 0 })), h(TEMP, prop('n/a', { obs: 1 })), h(TEMP, prop(6, { obs: 2 })), h(TEMP, prop('zz', { obs: 2 }))]);
        const page = await aggregate(DEFAULT_TENANT, ['avg', 'max', 'min', 'totalCount'], { months: 0, ms: HOUR });
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'avg'), [[4, 0, 1], [null, 1, 2], [6, 2, 3]]);
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'max'), [[4, 0, 1], ['n/a', 1, 2], [6, 2, 3]]);
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'min'), [[4, 0, 1], ['n/a', 1, 2], [6, 2, 3]]);
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'totalCount'), [[1, 0, 1], [1, 1, 2], [2, 2, 3]]);
      });

      it('lists every attribute with a counted instance, leaving out methods that yield nothing; deletions alone list nothing', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(4, { obs: 0 })), h(OWNER, rel('urn:x:1', { obs: 0 })), h(HUM, deletion({ obs: 0, deleted: 0 }))]);
        const page = await aggregate(DEFAULT_TENANT, ['avg'], null);
        assert.deepStrictEqual(entityOf(page, 'urn:e:1').attrs, { [TEMP]: { avg: [{ value: 4, startMs: ms(0), endMs: ms(0) + 1 }] }, [OWNER]: {} });
        const counts = await aggregate(DEFAULT_TENANT, ['totalCount'], null);
        assert.deepStrictEqual(Object.keys(entityOf(counts, 'urn:e:1').attrs).sort(), [OWNER, TEMP].sort());
        // An entity whose selected instances are all deletions is listed, without attributes.
        const deleted = await aggregate(DEFAULT_TENANT, ['totalCount'], null, { attrs: [HUM] });
        assert.deepStrictEqual(deleted.entities.map((e) => [e.entity.id, e.attrs]), [['urn:e:1', {}]]);
      });

      it('starts each attribute at its own oldest counted instance when the window has no lower bound', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [
          h(HUM, deletion({ obs: 0, deleted: 0 })),
          h(HUM, prop(1, { obs: 1.5 })),
          h(TEMP, prop(2, { obs: 0.5 })),
          h(TEMP, prop(3, { obs: 1.75 })),
        ]);
        const page = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: HOUR });
        assert.deepStrictEqual(series(page, 'urn:e:1', HUM, 'sum'), [[1, 1.5, 2.5]]);
        assert.deepStrictEqual(series(page, 'urn:e:1', TEMP, 'sum'), [[2, 0.5, 1.5], [3, 1.5, 2.5]]);
      });

      it('applies the selection: attributes, datasetIds, window property, entity filters and pages with count', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [
          h(TEMP, prop(1, { obs: 1, created: 5 })),
          h(TEMP, prop(2, { obs: 1, datasetId: 'urn:ds:1', created: 6 })),
          h(HUM, prop(3, { obs: 1 })),
        ]);
        await record(DEFAULT_TENANT, 'urn:e:2', [h(TEMP, prop(10, { obs: 1 }))], { types: [T_SENSOR] });
        await record(DEFAULT_TENANT, 'urn:e:3', [h(TEMP, prop(20, { obs: 1 }))]);
        const sums = (page: { entities: TemporalEntityAggregates[] }) =>
          page.entities.map((e) => [e.entity.id, Object.fromEntries(Object.entries(e.attrs).map(([a, m]) => [a, m.sum?.map((s) => s.value)]))]);
        assert.deepStrictEqual(sums(await aggregate(DEFAULT_TENANT, ['sum'], null, { attrs: [TEMP], datasetIds: ['@none'], selectors: [{ ids: ['urn:e:1'] }] })), [
          ['urn:e:1', { [TEMP]: [1] }],
        ]);
        assert.deepStrictEqual(sums(await aggregate(DEFAULT_TENANT, ['sum'], null, { selectors: [{ type: { op: 'type', name: T_ROOM } }] })), [
          ['urn:e:1', { [TEMP]: [3], [HUM]: [3] }],
          ['urn:e:3', { [TEMP]: [20] }],
        ]);
        const byCreated = await aggregate(DEFAULT_TENANT, ['sum'], null, { window: { property: 'createdAt', rel: 'after', fromMs: ms(6) } });
        assert.deepStrictEqual(sums(byCreated), [['urn:e:1', { [TEMP]: [2] }]]);
        const paged = await aggregate(DEFAULT_TENANT, ['sum'], null, { attrs: [TEMP] }, { limit: 1, offset: 1, count: true });
        assert.deepStrictEqual([sums(paged), paged.total], [[['urn:e:2', { [TEMP]: [10] }]], 3]);
      });

      it('refuses more than MAX_BUCKETS periods up to the newest instance with a RangeError', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [h(TEMP, prop(1, { obs: 0 })), h(TEMP, prop(2, { obs: 200 }))]);
        // 200 h in seconds is 720,000 periods.
        await assert.rejects(aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 1000 }), RangeError);
        // A far window end does not count: periods after the newest instance are empty anyway.
        const ok = await aggregate(DEFAULT_TENANT, ['sum'], { months: 0, ms: 10 * HOUR }, { window: { property: 'observedAt', rel: 'before', toMs: ms(24 * 365 * 50) } });
        assert.deepStrictEqual(series(ok, 'urn:e:1', TEMP, 'sum'), [[1, 0, 10], [2, 200, 210]]);
      });

      it('aggregates months with a selection of attributes and datasets', async () => {
        await record(DEFAULT_TENANT, 'urn:e:1', [
          h(TEMP, prop(1, { obs: 0 })),
          h(TEMP, prop(2, { obs: 24 * 40, datasetId: 'urn:ds:1' })),
          h(HUM, prop(3, { obs: 24 * 40 })),
        ]);
        const page = await aggregate(DEFAULT_TENANT, ['sum'], { months: 1, ms: 0 }, { datasetIds: ['@none'] });
        const attrs = entityOf(page, 'urn:e:1').attrs;
        assert.deepStrictEqual(attrs[TEMP]?.sum?.map((s) => s.value), [1]);
        // Each attribute's months start at its own oldest instance.
        assert.deepStrictEqual(attrs[HUM]?.sum?.map((s) => [s.value, new Date(s.startMs).toISOString().slice(0, 10), new Date(s.endMs).toISOString().slice(0, 10)]), [
          [3, '2024-02-10', '2024-03-10'],
        ]);
      });
    });
  });
}
