// The EntityMapStore contract (guide §19, GS CIM 009 §5.14): one node:test suite the SQLite and PostgreSQL
// adapters run. Time is passed in (`now`), so expiry is tested without waiting.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityMapEntry, EntityMapHead } from '../../src/core/entity-map/model.ts';
import type { EntityMapStore } from '../../src/ports/entity-map-store.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';

export interface EntityMapHarness {
  store: EntityMapStore;
  cleanup: () => Promise<void>;
}

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const MAP = 'urn:ngsi-ld:EntityMap:';
const ENT = 'urn:ngsi-ld:Sensor:';

function head(n: number, expiresInMs = 60_000, linkedMaps: Record<string, string> = {}): EntityMapHead {
  return { id: `${MAP}${n}`, expiresAt: at(expiresInMs), createdAt: T0, linkedMaps };
}

const entries = (n: number, sources: string[] = ['@none']): EntityMapEntry[] =>
  Array.from({ length: n }, (_, i) => ({ entityId: `${ENT}${String(i).padStart(5, '0')}`, sources }));

/** Registers the contract; `make` must return a fresh, empty store on every call. */
export function runEntityMapStoreContract(name: string, make: () => Promise<EntityMapHarness>): void {
  describe(`EntityMapStore contract: ${name}`, () => {
    let store: EntityMapStore;
    let cleanup: () => Promise<void>;
    const tA = parseTenant('tenant_a');

    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    const readAll = async (tenant = DEFAULT_TENANT, id = `${MAP}1`) => {
      const out = [];
      for (let after = -1; ; ) {
        const part = await store.readEntityMapEntries(tenant, id, after, 7);
        if (part.length === 0) return out;
        out.push(...part);
        after = part[part.length - 1]!.pos;
      }
    };

    it('a created map is read back with its head and its entries in order, paged by position', async () => {
      const h = head(1, 60_000, { 'urn:ngsi-ld:ContextSourceRegistration:r1': 'urn:ngsi-ld:EntityMap:remote' });
      const list = [...entries(20), { entityId: 'urn:x:remote', sources: ['urn:ngsi-ld:ContextSourceRegistration:r1', 'urn:ngsi-ld:ContextSourceRegistration:r2'] }];
      await store.createEntityMap(DEFAULT_TENANT, h, list);
      assert.deepStrictEqual(await store.getEntityMap(DEFAULT_TENANT, h.id, T0), h);
      const read = await readAll();
      assert.deepStrictEqual(read.map(({ entityId, sources }) => ({ entityId, sources })), list);
      const positions = read.map((e) => e.pos);
      assert.deepStrictEqual(positions, [...positions].sort((a, b) => a - b));
      assert.equal(new Set(positions).size, positions.length);
      assert.deepStrictEqual(await store.readEntityMapEntries(DEFAULT_TENANT, h.id, positions[positions.length - 1]!, 5), []);
    });

    it('an empty map exists and has no entries', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1), []);
      assert.notEqual(await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), null);
      assert.deepStrictEqual(await readAll(), []);
    });

    it('maps are per tenant: the same id in two tenants are two maps, and another tenant’s map is unknown', async () => {
      await store.createEntityMap(tA, head(1), entries(2));
      assert.equal(await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), null);
      assert.deepStrictEqual(await store.readEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, -1, 10), []);
      assert.equal(await store.setEntityMapExpiry(DEFAULT_TENANT, `${MAP}1`, at(1), T0), false);
      assert.equal(await store.deleteEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), false);
      await store.createEntityMap(DEFAULT_TENANT, head(1), entries(5));
      assert.equal((await readAll(tA)).length, 2);
      assert.equal((await readAll()).length, 5);
    });

    it('removing entries drops exactly those ids, keeps the others’ positions, ignores unknown ids', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1), entries(6));
      const before = await readAll();
      await store.removeEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, [`${ENT}00001`, `${ENT}00004`, 'urn:x:unknown']);
      await store.removeEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, []);
      const after = await readAll();
      assert.deepStrictEqual(after, before.filter((e) => e.entityId !== `${ENT}00001` && e.entityId !== `${ENT}00004`));
    });

    it('a map is invisible from its expiry on; setting a later expiry keeps it alive; an expired one cannot be revived', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1, 1000), entries(1));
      assert.notEqual(await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, at(999)), null);
      assert.equal(await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, at(1000)), null);
      assert.equal(await store.setEntityMapExpiry(DEFAULT_TENANT, `${MAP}1`, at(5000), at(500)), true);
      assert.equal((await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, at(4999)))?.expiresAt, at(5000));
      assert.equal(await store.setEntityMapExpiry(DEFAULT_TENANT, `${MAP}1`, at(9000), at(5000)), false);
      assert.equal(await store.deleteEntityMap(DEFAULT_TENANT, `${MAP}1`, at(5000)), false);
    });

    it('deleting a live map removes it and its entries; a second delete finds nothing', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1), entries(3));
      assert.equal(await store.deleteEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), true);
      assert.equal(await store.getEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), null);
      assert.deepStrictEqual(await store.readEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, -1, 10), []);
      assert.equal(await store.deleteEntityMap(DEFAULT_TENANT, `${MAP}1`, T0), false);
      // The id is free again: a new map may take it.
      await store.createEntityMap(DEFAULT_TENANT, head(1), entries(1));
      assert.equal((await readAll()).length, 1);
    });

    it('the sweep deletes every tenant’s expired maps with their entries and keeps live ones', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1, 1000), entries(3));
      await store.createEntityMap(tA, head(2, 1000), entries(3));
      await store.createEntityMap(tA, head(3, 10_000), entries(3));
      assert.equal(await store.sweepEntityMaps(at(999)), 0);
      assert.equal(await store.sweepEntityMaps(at(1000)), 2);
      assert.deepStrictEqual(await store.readEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, -1, 10), []);
      assert.deepStrictEqual(await store.readEntityMapEntries(tA, `${MAP}2`, -1, 10), []);
      assert.equal((await readAll(tA, `${MAP}3`)).length, 3);
      assert.notEqual(await store.getEntityMap(tA, `${MAP}3`, at(1000)), null);
    });

    it('holds a large map (25,000 entries) and pages through it', async () => {
      await store.createEntityMap(DEFAULT_TENANT, head(1), entries(25_000));
      const first = await store.readEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, -1, 3);
      assert.deepStrictEqual(first.map((e) => e.entityId), [`${ENT}00000`, `${ENT}00001`, `${ENT}00002`]);
      const last = await store.readEntityMapEntries(DEFAULT_TENANT, `${MAP}1`, 24_997, 10);
      assert.deepStrictEqual(last.map((e) => e.entityId), [`${ENT}24998`, `${ENT}24999`]);
    });

    it('round-trips ids whose UTF-16 order differs from code point order (supplementary characters, U+FFFF)', async () => {
      // Entity ids are well-formed URIs (no controls, no lone surrogates), so those need no round trip here.
      const odd = 'urn:x:\uFFFF\u{1F600}é';
      await store.createEntityMap(DEFAULT_TENANT, { ...head(1), id: odd }, [{ entityId: odd, sources: ['@none'] }]);
      assert.equal((await store.getEntityMap(DEFAULT_TENANT, odd, T0))?.id, odd);
      assert.deepStrictEqual((await store.readEntityMapEntries(DEFAULT_TENANT, odd, -1, 5)).map((e) => e.entityId), [odd]);
      await store.removeEntityMapEntries(DEFAULT_TENANT, odd, [odd]);
      assert.deepStrictEqual(await store.readEntityMapEntries(DEFAULT_TENANT, odd, -1, 5), []);
    });
  });
}
