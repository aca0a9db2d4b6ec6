// The EntityStore contract: one node:test suite every store adapter (SQLite, PostgreSQL) runs unchanged.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityStore, StoredContext, WriteDecision } from '../../src/ports/store.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import type { JsonValue } from '../../src/core/json.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import { NgsiError } from '../../src/core/errors.ts';

export type StoreFactory = () => Promise<{ store: EntityStore; cleanup: () => Promise<void> }>;

const T0 = '2024-01-02T03:04:05.678Z';
const T1 = '2024-06-07T08:09:10.111Z';
const TYPE = 'https://uri.fiware.org/ns/dataModels#Building';
const NAME = 'https://schema.org/name';

function prop(value: JsonValue, at = T0): AttrInstance {
  return { type: 'Property', value, createdAt: at, modifiedAt: at };
}

function entity(id: string, attrs: Entity['attrs'] = {}, types: string[] = [TYPE]): Entity {
  return { id, types, createdAt: T0, modifiedAt: T0, attrs };
}

const putDecision = (e: Entity): WriteDecision<string> => ({ put: e, result: 'put' });
const NO_CREATE = { createTenant: false };
const CREATE = { createTenant: true };

function isNgsiError(kind: string): (err: unknown) => boolean {
  return (err) => err instanceof NgsiError && err.kind === kind;
}

/** Registers the contract suite; `makeStore` must return a fresh, empty store on every call. */
export function runStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`EntityStore contract: ${name}`, () => {
    let store: EntityStore;
    let cleanup: () => Promise<void>;
    const tA = parseTenant('tenant_a');
    const tB = parseTenant('tenant-b');

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const put = (tenant: TenantId, e: Entity, createTenant = true): Promise<string> =>
      store.writeEntity(tenant, e.id, () => putDecision(e), { createTenant });

    it('creates an entity and reads back a deep-equal copy', async () => {
      const e: Entity = {
        id: 'urn:ngsi-ld:Building:1',
        types: [TYPE, 'https://example.org/Other'],
        scope: ['/Madrid/Gardens'],
        createdAt: T0,
        modifiedAt: T1,
        expiresAt: '2030-01-01T00:00:00.000Z',
        attrs: {
          [NAME]: [{ ...prop('Town hall'), observedAt: T1, attrs: { 'https://example.org/sub': [prop(1)] } }],
          'https://example.org/owner': [
            { type: 'Relationship', object: 'urn:ngsi-ld:Person:1', createdAt: T0, modifiedAt: T0 },
            { type: 'Relationship', object: ['urn:a', 'urn:b'], datasetId: 'urn:ds:2', createdAt: T0, modifiedAt: T0 },
          ],
        },
      };
      assert.equal(await store.writeEntity(DEFAULT_TENANT, e.id, () => putDecision(e), NO_CREATE), 'put');
      assert.deepStrictEqual(await store.getEntity(DEFAULT_TENANT, e.id), e);
    });

    it('returns null for an unknown id, and for any id of an unknown tenant', async () => {
      assert.equal(await store.getEntity(DEFAULT_TENANT, 'urn:ngsi-ld:X:missing'), null);
      assert.equal(await store.getEntity(parseTenant('nobody'), 'urn:ngsi-ld:X:missing'), null);
      assert.deepStrictEqual(await store.listEntities(parseTenant('nobody')), []);
    });

    it('put on an existing entity replaces it entirely', async () => {
      await put(DEFAULT_TENANT, entity('urn:x:1', { [NAME]: [prop('a')], 'urn:gone': [prop(1)] }));
      const next = { ...entity('urn:x:1', { [NAME]: [prop('b', T1)] }, ['urn:T2']), modifiedAt: T1 };
      await put(DEFAULT_TENANT, next);
      assert.deepStrictEqual(await store.getEntity(DEFAULT_TENANT, 'urn:x:1'), next);
      assert.equal((await store.listEntities(DEFAULT_TENANT)).length, 1);
    });

    it('remove deletes the entity; removing an absent one is a no-op', async () => {
      await put(DEFAULT_TENANT, entity('urn:x:1'));
      const r = await store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ remove: true, result: 7 }), NO_CREATE);
      assert.equal(r, 7);
      assert.equal(await store.getEntity(DEFAULT_TENANT, 'urn:x:1'), null);
      const again = await store.writeEntity(DEFAULT_TENANT, 'urn:x:1', (cur) => ({ remove: true, result: cur }), NO_CREATE);
      assert.equal(again, null);
      assert.deepStrictEqual(await store.listEntities(DEFAULT_TENANT), []);
    });

    it('a decision with neither put nor remove writes nothing and returns its result', async () => {
      const r = await store.writeEntity(tA, 'urn:x:1', () => ({ result: 'noop' }), CREATE);
      assert.equal(r, 'noop');
      assert.equal(await store.tenantExists(tA), false);
      assert.equal(await store.getEntity(tA, 'urn:x:1'), null);
    });

    it('a decide that throws writes nothing and creates no tenant', async () => {
      const original = entity('urn:x:1', { [NAME]: [prop('original')] });
      await put(DEFAULT_TENANT, original);
      const boom = (): WriteDecision<void> => {
        throw new NgsiError('AlreadyExists', 'already there');
      };
      await assert.rejects(store.writeEntity(DEFAULT_TENANT, 'urn:x:1', boom, NO_CREATE), isNgsiError('AlreadyExists'));
      assert.deepStrictEqual(await store.getEntity(DEFAULT_TENANT, 'urn:x:1'), original);

      await assert.rejects(store.writeEntity(tA, 'urn:x:2', boom, CREATE), isNgsiError('AlreadyExists'));
      assert.equal(await store.tenantExists(tA), false);
      assert.equal(await store.getEntity(tA, 'urn:x:2'), null);

      const plain = (): WriteDecision<void> => {
        throw new Error('unexpected');
      };
      await assert.rejects(store.writeEntity(DEFAULT_TENANT, 'urn:x:1', plain, NO_CREATE), /unexpected/);
      assert.deepStrictEqual(await store.getEntity(DEFAULT_TENANT, 'urn:x:1'), original);
    });

    it('rejects a write to a nonexistent tenant without createTenant, before calling decide', async () => {
      let called = false;
      const decide = (): WriteDecision<null> => {
        called = true;
        return { put: entity('urn:x:1'), result: null };
      };
      await assert.rejects(store.writeEntity(tA, 'urn:x:1', decide, NO_CREATE), isNgsiError('NonexistentTenant'));
      assert.equal(called, false);
      assert.equal(await store.tenantExists(tA), false);
    });

    it('the default tenant always exists; createTenant creates a tenant with its first entity', async () => {
      assert.equal(await store.tenantExists(DEFAULT_TENANT), true);
      assert.equal(await store.tenantExists(tA), false);
      await put(tA, entity('urn:x:1'), true);
      assert.equal(await store.tenantExists(tA), true);
      assert.equal(await store.tenantExists(tB), false);
      // Once created, the tenant accepts writes without createTenant and outlives its last entity.
      await put(tA, entity('urn:x:2'), false);
      await store.writeEntity(tA, 'urn:x:1', () => ({ remove: true, result: null }), NO_CREATE);
      await store.writeEntity(tA, 'urn:x:2', () => ({ remove: true, result: null }), NO_CREATE);
      assert.equal(await store.tenantExists(tA), true);
    });

    it('isolates tenants: the same id in two tenants never touches the other', async () => {
      const inA = entity('urn:x:same', { [NAME]: [prop('in A')] });
      const inB = entity('urn:x:same', { [NAME]: [prop('in B')] });
      const inDefault = entity('urn:x:same', { [NAME]: [prop('in default')] });
      await put(tA, inA);
      await put(tB, inB);
      await put(DEFAULT_TENANT, inDefault);
      assert.deepStrictEqual(await store.getEntity(tA, 'urn:x:same'), inA);
      assert.deepStrictEqual(await store.getEntity(tB, 'urn:x:same'), inB);
      await put(tA, entity('urn:x:only-a'));
      assert.deepStrictEqual((await store.listEntities(tB)).map((e) => e.id), ['urn:x:same']);
      await store.writeEntity(tA, 'urn:x:same', (cur) => {
        assert.deepStrictEqual(cur, inA);
        return { remove: true, result: null };
      }, NO_CREATE);
      assert.equal(await store.getEntity(tA, 'urn:x:same'), null);
      assert.deepStrictEqual(await store.getEntity(tB, 'urn:x:same'), inB);
      assert.deepStrictEqual(await store.getEntity(DEFAULT_TENANT, 'urn:x:same'), inDefault);
      assert.deepStrictEqual((await store.listEntities(tA)).map((e) => e.id), ['urn:x:only-a']);
    });

    it('lists entities in a stable insertion order that replacing does not change', async () => {
      for (const id of ['urn:x:c', 'urn:x:a', 'urn:x:b']) await put(DEFAULT_TENANT, entity(id));
      const ids = async (): Promise<string[]> => (await store.listEntities(DEFAULT_TENANT)).map((e) => e.id);
      assert.deepStrictEqual(await ids(), ['urn:x:c', 'urn:x:a', 'urn:x:b']);
      assert.deepStrictEqual(await ids(), ['urn:x:c', 'urn:x:a', 'urn:x:b']);
      await put(DEFAULT_TENANT, { ...entity('urn:x:a', { [NAME]: [prop('changed')] }), modifiedAt: T1 });
      assert.deepStrictEqual(await ids(), ['urn:x:c', 'urn:x:a', 'urn:x:b']);
      await store.writeEntity(DEFAULT_TENANT, 'urn:x:a', () => ({ remove: true, result: null }), NO_CREATE);
      await put(DEFAULT_TENANT, entity('urn:x:a'));
      assert.deepStrictEqual(await ids(), ['urn:x:c', 'urn:x:b', 'urn:x:a']);
    });

    it('decide sees the current state, and 50 concurrent read-modify-writes lose no update', async () => {
      const id = 'urn:x:counter';
      await put(DEFAULT_TENANT, entity(id));
      const seen = await store.writeEntity(DEFAULT_TENANT, id, (cur) => ({ result: cur }), NO_CREATE);
      assert.deepStrictEqual(seen, entity(id));

      const n = 50;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.writeEntity(
            DEFAULT_TENANT,
            id,
            (cur) => {
              assert.ok(cur !== null);
              return { put: { ...cur, attrs: { ...cur.attrs, [`urn:attr:${i}`]: [prop(i)] } }, result: i };
            },
            NO_CREATE,
          ),
        ),
      );
      assert.deepStrictEqual(results, Array.from({ length: n }, (_, i) => i));
      const final = await store.getEntity(DEFAULT_TENANT, id);
      assert.ok(final !== null);
      assert.equal(Object.keys(final.attrs).length, n);
      for (let i = 0; i < n; i++) assert.deepStrictEqual(final.attrs[`urn:attr:${i}`], [prop(i)]);
    });

    it('concurrent single writes of many entities and tenants: each settles alone, a refusal undoes only itself', async () => {
      // Stores may run concurrent writes together (group commit): one write's refusal or conflict must not
      // touch the others, and a write's promise settles with its own outcome.
      await put(DEFAULT_TENANT, entity('urn:x:shared'));
      const ops: Promise<unknown>[] = [];
      const expected: unknown[] = [];
      for (let i = 0; i < 60; i++) {
        const tenant = i % 3 === 0 ? tA : DEFAULT_TENANT;
        const id = `urn:x:item:${i % 20}`;
        if (i % 10 === 7) {
          // Refused by decide: nothing of it may be written.
          ops.push(
            store
              .writeEntity(tenant, id, () => {
                throw new NgsiError('BadRequestData', `refused ${i}`);
              }, CREATE)
              .then(
                () => 'resolved',
                (err: unknown) => (err instanceof NgsiError ? err.detail : 'other error'),
              ),
          );
          expected.push(`refused ${i}`);
        } else if (i % 10 === 3) {
          // Appends to one shared entity: every one must survive.
          ops.push(
            store.writeEntity(DEFAULT_TENANT, 'urn:x:shared', (cur) => {
              assert.ok(cur !== null);
              return { put: { ...cur, attrs: { ...cur.attrs, [`urn:attr:${i}`]: [prop(i)] } }, result: `shared ${i}` };
            }, NO_CREATE),
          );
          expected.push(`shared ${i}`);
        } else {
          // Create or update: the result says which the write saw.
          ops.push(
            store.writeEntity(tenant, id, (cur) => {
              const attrs = { ...(cur?.attrs ?? {}), [`urn:attr:${i}`]: [prop(i)] };
              return { put: { ...entity(id), attrs }, result: cur === null ? 'created' : 'updated' };
            }, CREATE),
          );
          expected.push(null);
        }
      }
      const results = await Promise.all(ops);
      results.forEach((r, i) => {
        if (expected[i] === null) assert.ok(r === 'created' || r === 'updated', `write ${i}: ${String(r)}`);
        else assert.equal(r, expected[i], `write ${i}`);
      });
      // Exactly one create per (tenant, id): later writes of the id saw it.
      const creates = new Map<string, number>();
      results.forEach((r, i) => {
        if (r !== 'created') return;
        const key = `${i % 3 === 0 ? 'a' : 'd'}:${i % 20}`;
        creates.set(key, (creates.get(key) ?? 0) + 1);
      });
      for (const [key, n] of creates) assert.equal(n, 1, key);
      const shared = await store.getEntity(DEFAULT_TENANT, 'urn:x:shared');
      assert.ok(shared !== null);
      for (let i = 3; i < 60; i += 10) assert.deepStrictEqual(shared.attrs[`urn:attr:${i}`], [prop(i)]);
      // Every accepted write of an item is in its entity; no refused one is.
      for (let i = 0; i < 60; i++) {
        if (i % 10 === 3) continue;
        const tenant = i % 3 === 0 ? tA : DEFAULT_TENANT;
        const stored = await store.getEntity(tenant, `urn:x:item:${i % 20}`);
        const attr = stored?.attrs[`urn:attr:${i}`];
        if (i % 10 === 7) assert.equal(attr, undefined, `refused write ${i} left a trace`);
        else assert.deepStrictEqual(attr, [prop(i)], `write ${i}`);
      }
    });

    it('round-trips unicode ids, names and values byte-exactly', async () => {
      const nfc = 'urn:ngsi-ld:Ort:Z\u00fcrich-\u6771\u4eac-\u{1F680}';
      const nfd = 'urn:ngsi-ld:Ort:Zu\u0308rich-\u6771\u4eac-\u{1F680}';
      assert.notEqual(nfc, nfd);
      const a = entity(nfc, { 'https://example.org/n\u00e4me': [prop('Stra\u00dfe \u0645\u0631\u062d\u0628\u0627 \u{1F3D8}\uFE0F')] });
      const b = entity(nfd, { 'https://example.org/na\u0308me': [prop('Strasse')] });
      await put(tA, a);
      await put(tA, b);
      assert.deepStrictEqual(await store.getEntity(tA, nfc), a);
      assert.deepStrictEqual(await store.getEntity(tA, nfd), b);
      assert.deepStrictEqual((await store.listEntities(tA)).map((e) => e.id), [nfc, nfd]);
    });

    it('round-trips values with quotes, NUL, backslashes, control characters and emoji', async () => {
      const tricky = `it's "quoted" \\ back\\\\slash \u0000 nul \n\r\t \u0001 \u2028 \u{1F600} '); DROP TABLE entities;--`;
      const value: JsonValue = {
        s: tricky,
        [tricky]: [tricky, 0, -1.5, 1e300, 0.1, true, false, null, { nested: { deeper: [[], {}] } }],
        empty: '',
      };
      const e = entity('urn:x:tricky', { [NAME]: [prop(value)], 'https://example.org/plain': [prop(tricky)] });
      await put(DEFAULT_TENANT, e);
      const back = await store.getEntity(DEFAULT_TENANT, 'urn:x:tricky');
      assert.deepStrictEqual(back, e);
      assert.equal(back?.attrs['https://example.org/plain'][0].value, tricky);
    });

    it('stores, replaces, lists and deletes @context entries', async () => {
      const hosted: StoredContext = {
        localId: 'ctx-1',
        kind: 'Hosted',
        document: { '@context': { name: 'https://schema.org/name', q: 'it\'s "\u{1F600}"' } },
        createdAt: T0,
      };
      const implicit: StoredContext = {
        localId: 'ctx-2',
        kind: 'ImplicitlyCreated',
        url: 'https://example.org/ctx.jsonld',
        document: { '@context': ['https://example.org/a.jsonld', { b: 'urn:b' }] },
        createdAt: T1,
      };
      assert.equal(await store.getContext('ctx-1'), null);
      assert.deepStrictEqual(await store.listContexts(), []);
      await store.putContext(hosted);
      await store.putContext(implicit);
      assert.deepStrictEqual(await store.getContext('ctx-1'), hosted);
      assert.deepStrictEqual(await store.getContext('ctx-2'), implicit);
      assert.deepStrictEqual(
        (await store.listContexts()).sort((x, y) => x.localId.localeCompare(y.localId)),
        [hosted, implicit],
      );
      const replaced: StoredContext = { ...hosted, document: { '@context': { other: 'urn:other' } } };
      await store.putContext(replaced);
      assert.deepStrictEqual(await store.getContext('ctx-1'), replaced);
      assert.equal((await store.listContexts()).length, 2);
      assert.equal(await store.deleteContext('ctx-1'), true);
      assert.equal(await store.deleteContext('ctx-1'), false);
      assert.equal(await store.getContext('ctx-1'), null);
      assert.deepStrictEqual(await store.listContexts(), [implicit]);
    });

    it('writes a batch in order: later items see earlier ones, a refused item writes nothing', async () => {
      const outcomes = await store.writeEntities(
        tA,
        [
          { id: 'urn:b:1', decide: (cur) => ({ put: entity('urn:b:1', { [NAME]: [prop('first')] }), result: cur === null }) },
          { id: 'urn:b:1', decide: (cur) => ({ put: entity('urn:b:1', { ...cur!.attrs, x: [prop(2)] }), result: cur !== null }) },
          {
            id: 'urn:b:2',
            decide: () => {
              throw new NgsiError('BadRequestData', 'refused');
            },
          },
          { id: 'urn:b:3', decide: () => ({ put: entity('urn:b:3'), result: true }) },
        ],
        CREATE,
      );
      assert.deepStrictEqual(outcomes.map((o) => o.ok), [true, true, false, true]);
      assert.deepStrictEqual(outcomes.map((o) => (o.ok ? o.result : o.error.kind)), [true, true, 'BadRequestData', true]);
      assert.deepStrictEqual(Object.keys((await store.getEntity(tA, 'urn:b:1'))!.attrs).sort(), [NAME, 'x'].sort());
      assert.equal(await store.getEntity(tA, 'urn:b:2'), null);
      assert.notEqual(await store.getEntity(tA, 'urn:b:3'), null);
      assert.equal(await store.tenantExists(tA), true);
    });

    it('a batch whose items all fail creates no tenant; an unexpected error aborts the whole batch', async () => {
      const refused = await store.writeEntities(
        tB,
        [{ id: 'urn:b:9', decide: () => { throw new NgsiError('AlreadyExists', 'no'); } }],
        CREATE,
      );
      assert.equal(refused[0]!.ok, false);
      assert.equal(await store.tenantExists(tB), false);
      await assert.rejects(
        store.writeEntities(
          tA,
          [
            { id: 'urn:b:10', decide: () => putDecision(entity('urn:b:10')) },
            { id: 'urn:b:11', decide: () => { throw new Error('boom'); } },
          ],
          CREATE,
        ),
        /boom/,
      );
      assert.equal(await store.getEntity(tA, 'urn:b:10'), null);
      await assert.rejects(store.writeEntities(tB, [{ id: 'urn:b:12', decide: () => putDecision(entity('urn:b:12')) }], NO_CREATE), isNgsiError('NonexistentTenant'));
    });
  });
}
