// Runs the query differential suite on the PostgreSQL + PostGIS store (a fresh database per population),
// plus the compiler's output shape (placeholders only, no database), the SQL helper functions against the
// core's date/time semantics, and the v1 → v2 migration of an existing database (issue 4 §3, §7).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'pg';
import { RE2JS } from 're2js';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import { applyMigrations, MIGRATIONS } from '../../src/adapters/store-postgres/migrations.ts';
import { compileEntityQuery, pageStatement } from '../../src/adapters/store-postgres/query-compile.ts';
import { dateTimeKey } from '../../src/adapters/store-postgres/derive.ts';
import { planRegex } from '../../src/adapters/store-postgres/regex-sql.ts';
import { textFromKey, textKey } from '../../src/adapters/store-postgres/text-key.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { parseDate, parseTime } from '../../src/core/datetime.ts';
import { referenceQuery, type EntityQuery } from '../../src/core/query/entity-query.ts';
import { summarizeEntities } from '../../src/core/query/discovery.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { createTestDatabase, postgresAvailable } from '../support/postgres.ts';
import { runQueryDifferential } from './query-differential.ts';
import { hostileQueries } from './query-hostile.ts';
import { HOSTILE_STRINGS } from './query-pools.ts';

const availability = await postgresAvailable();

/**
 * A pool for test queries. pg's pool.end() resolves before its sockets are closed, so the DROP DATABASE …
 * WITH (FORCE) that follows may terminate one: that error is expected and must not fail the next test.
 */
function testPool(url: string, max: number): Pool {
  const pool = new Pool({ connectionString: url, max });
  pool.on('error', () => {});
  return pool;
}

describe('PostgreSQL query compiler (no database)', () => {
  it('writes every value as a placeholder: hostile values change the bound values, never the SQL text', () => {
    for (const [label, query] of hostileQueries(['urn:ngsi-ld:Sensor:1'])) {
      const benign = JSON.parse(JSON.stringify(query, (_k, v: unknown) => (typeof v === 'string' && HOSTILE_STRINGS.includes(v) ? 'plain' : v))) as EntityQuery;
      const page = { limit: 10, offset: 0, count: true };
      const hostile = pageStatement(compileEntityQuery('t', query), page);
      const plain = pageStatement(compileEntityQuery('t', benign), page);
      // Regex terms are planned from the pattern's shape, a type name PostgreSQL text cannot hold (NUL) can
      // match nothing, and `[*]` names every language; all other SQL is independent of the values.
      const shaped =
        label.startsWith('idPattern') || label.startsWith('q regex') || (label.startsWith('type') && label.includes('\\u0000')) || label.endsWith('"*"');
      if (!shaped) assert.equal(hostile.text, plain.text, label);
      const used = [...hostile.text.matchAll(/\$(\d+)::(text|text\[\]|float8|bigint|int|jsonb)\b/g)].map((m) => Number(m[1]));
      assert.ok(used.length > 0 && Math.max(...used) === hostile.values.length, `${label}: placeholders $1..$${hostile.values.length}`);
      assert.equal(hostile.values[0], 't');
      for (const v of hostile.values.flat()) assert.ok(typeof v !== 'string' || !v.includes('\u0000'), `${label}: no NUL is ever bound`);
    }
  });

  it('binds the tenant as $1 and ends the order with insertion order', () => {
    const c = compileEntityQuery("x'; DROP TABLE entities; --", { order: [{ kind: 'attr', attr: 'https://x/a"b', desc: true }] });
    const s = pageStatement(c, { limit: 5, offset: 2, count: false });
    assert.match(s.text, /^SELECT e\.doc::text AS doc FROM entities e WHERE e\.tenant = \$1 ORDER BY .* e\.seq ASC LIMIT \$3::bigint OFFSET \$4::bigint$/s);
    assert.deepStrictEqual(s.values, ["x'; DROP TABLE entities; --", 'https://x/a"b', 5, 2]);
  });

  it('plans literal regexes exactly and others as prefixes or opaque', () => {
    assert.deepStrictEqual(planRegex('^urn:ngsi-ld:Car:.*'), { kind: 'literal', literal: 'urn:ngsi-ld:Car:', start: true, end: false });
    assert.deepStrictEqual(planRegex('.*Room\\.1$'), { kind: 'literal', literal: 'Room.1', start: false, end: true });
    assert.deepStrictEqual(planRegex('^a\\.b$'), { kind: 'literal', literal: 'a.b', start: true, end: true });
    assert.deepStrictEqual(planRegex('^urn:x:[0-9]+'), { kind: 'prefix', prefix: 'urn:x:' });
    assert.deepStrictEqual(planRegex('^ab*'), { kind: 'prefix', prefix: 'a' });
    assert.deepStrictEqual(planRegex('^ab|cd'), { kind: 'opaque' });
    assert.deepStrictEqual(planRegex('(?i)red'), { kind: 'opaque' });
    assert.deepStrictEqual(planRegex('😀'), { kind: 'opaque' });
    assert.deepStrictEqual(planRegex('^(a+)+$'), { kind: 'opaque' });
  });

  it('a literal plan decides on text keys exactly what RE2 decides on the original text', () => {
    const patterns = ['^urn:ngsi-ld:', 'Room:1', '^a\\.b$', '.*x"y.*', '^$', '^', '$', '', 'é$', '^日本', '\\$\\[0\\]', '.*', 'n$', '^Zürich$'];
    const texts = ['', 'urn:ngsi-ld:Room:12', 'a.b', 'axb', 'x"y', 'é', '日本語', '$[0]', 'line\nn', 'Zürich', ...HOSTILE_STRINGS, ...HOSTILE_STRINGS.map((h) => `é${h}n`)];
    for (const pattern of patterns) {
      const plan = planRegex(pattern);
      assert.equal(plan.kind, 'literal', pattern);
      if (plan.kind !== 'literal') continue;
      const re = RE2JS.compile(pattern);
      const lit: string = plan.literal;
      const decide = (k: string): boolean =>
        plan.start && plan.end ? k === lit : plan.start ? k.startsWith(lit) : plan.end ? k.endsWith(lit) : k.includes(lit);
      for (const text of texts) {
        assert.equal(decide(textKey(text)), re.matcher(text).find(), `${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
      }
    }
  });

  it('text keys are injective, order-preserving in UTF-16 and free of NUL', () => {
    const samples = ['', '\u0000', '\u0001', '\u0002', 'a', 'a\u0000', 'a\u0000b', '\uD7FF', '\uD800', '\uDFFF', '\uE000', '\uFFFF', '😀', '😀a', '\uFF5A', 'ab', 'b'];
    for (const a of samples) {
      assert.equal(textFromKey(textKey(a)), a);
      assert.ok(!textKey(a).includes('\u0000') && textKey(a).isWellFormed());
      for (const b of samples) {
        const utf16 = a < b ? -1 : a > b ? 1 : 0;
        const [ka, kb] = [Buffer.from(textKey(a)), Buffer.from(textKey(b))];
        assert.equal(Math.sign(Buffer.compare(ka, kb)), utf16, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
  });
});

if (!availability.ok) {
  it('runs the query differential suite on PostgreSQL', { skip: availability.reason }, () => {});
  it('migrates a v1 database to v2 and queries it', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  runQueryDifferential('postgres', async () => {
    const db = await createTestDatabase(baseUrl);
    return { store: await createPostgresStore({ url: db.url, poolSize: 4 }), cleanup: () => db.drop() };
  });

  describe('PostgreSQL query schema', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let pool: Pool;
    before(async () => {
      db = await createTestDatabase(baseUrl);
      pool = testPool(db.url, 2);
    });
    after(async () => {
      await pool?.end();
      await db?.drop();
    });

    it('the SQL date and time keys equal the core semantics on valid and invalid text', async () => {
      await applyMigrations(pool);
      const texts = [
        '2024-02-29T12:00:00Z', '2023-02-29T12:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '0000-02-29T00:00:00Z',
        '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999Z', '2024-05-01T10:00:00,25Z',
        '2024-05-01T24:00:00Z', '2024-05-01T10:60:00Z', '2024-05-01T10:00:60Z', '2024-13-01T10:00:00Z', '2024-00-10T10:00:00Z',
        '2024-04-31T10:00:00Z', '2024-05-01T10:00:00.1234567Z', '2024-05-01T10:00:00+01:00', '2024-05-01 10:00:00Z',
        '10:00:00Z', '23:59:59.5Z', '24:00:00Z', '10:00:00,123456Z', '2024-05-01', '2024-02-30', '١٢:٠٠:٠٠Z',
      ];
      const { rows } = await pool.query<{ dt: string | null; tk: string | null; d: string | null }>(
        'SELECT kend_datetime_key(s)::text AS dt, kend_time_key(s)::text AS tk, kend_date_text(s) AS d FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n',
        [texts],
      );
      texts.forEach((s, i) => {
        assert.equal(rows[i].dt, dateTimeKey(s), `DateTime key of ${s}`);
        const t = parseTime(s);
        assert.equal(rows[i].tk !== null, t !== null, `Time ${s}`);
        assert.equal(rows[i].d, parseDate(s), `Date ${s}`);
      });
    });
  });

  describe('PostgreSQL query plans', () => {
    it('the main query shapes read indexes, not the whole table (plans printed as diagnostics)', async (t) => {
      const db = await createTestDatabase(baseUrl);
      const store = await createPostgresStore({ url: db.url, poolSize: 2 });
      const pool = testPool(db.url, 1);
      try {
        const tenant = parseTenant('plans');
        const at = '2024-01-01T00:00:00.000Z';
        const population: Entity[] = Array.from({ length: 4000 }, (_, i) => ({
          id: `urn:ngsi-ld:Sensor:${String(i).padStart(5, '0')}`,
          types: [i % 10 === 0 ? 'https://x/Room' : 'https://x/Sensor'],
          createdAt: at,
          modifiedAt: at,
          attrs: {
            'https://x/temperature': [{ type: 'Property', value: i % 1000, createdAt: at, modifiedAt: at }],
            'https://x/owner': [{ type: 'Relationship', object: `urn:ngsi-ld:Person:${i % 400}`, createdAt: at, modifiedAt: at }],
            'https://uri.etsi.org/ngsi-ld/location': [
              { type: 'GeoProperty', value: { type: 'Point', coordinates: [-3.8 + (i % 63) * 0.003, 40.3 + Math.floor(i / 63) * 0.003] }, createdAt: at, modifiedAt: at },
            ],
          },
        }));
        for (let i = 0; i < population.length; i += 1000) {
          const items = population.slice(i, i + 1000).map((e) => ({ id: e.id, decide: () => ({ put: e, result: null }) }));
          await store.writeEntities(tenant, items, { createTenant: true });
        }
        await pool.query('ANALYZE');
        const sensor = { type: { op: 'type' as const, name: 'https://x/Sensor' } };
        const location = 'https://uri.etsi.org/ngsi-ld/location';
        const shapes: [string, EntityQuery, RegExp][] = [
          ['type + q number', { selectors: [sensor], q: { type: 'compare', path: { attr: 'https://x/temperature', sub: [] }, op: '>=', value: { kind: 'number', value: 997 } } }, /entity_attrs_num/],
          ['q relationship ==', { q: { type: 'compare', path: { attr: 'https://x/owner', sub: [] }, op: '==', value: { kind: 'uri', value: 'urn:ngsi-ld:Person:7' } } }, /entity_attrs_str/],
          ['near 300 m', { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 300 }, geometry: { type: 'Point', coordinates: [-3.7, 40.4] }, geoproperty: location } }, /entity_geo_geog/],
          ['within polygon', { geo: { georel: { op: 'within' }, geometry: { type: 'Polygon', coordinates: [[[-3.71, 40.39], [-3.7, 40.39], [-3.7, 40.4], [-3.71, 40.4], [-3.71, 40.39]]] }, geoproperty: location } }, /entity_geo_geom/],
          ['idPattern prefix', { selectors: [{ idPattern: { source: '^urn:ngsi-ld:Sensor:0012' } }] }, /entities_pkey/],
        ];
        for (const [label, query, index] of shapes) {
          const s = pageStatement(compileEntityQuery(tenant, query), { limit: 20, offset: 0, count: false });
          const { rows } = await pool.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (COSTS OFF) ${s.text}`, values: s.values as unknown[] });
          const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          t.diagnostic(`${label}:\n${plan}`);
          assert.match(plan, index, `${label} uses ${index.source}:\n${plan}`);
          assert.doesNotMatch(plan, /Seq Scan on entit/, `${label} scans no table:\n${plan}`);
          const page = { limit: 20, offset: 0, count: true };
          assert.deepStrictEqual(await store.queryEntities(tenant, query, page), referenceQuery(query, population, page), label);
        }
      } finally {
        await pool.end();
        await store.close();
        await db.drop();
      }
    });
  });

  describe('PostgreSQL v1 → v2 migration', () => {
    it('migrates a v1 database holding entities, then queries and discovery agree with the reference', async () => {
      const db = await createTestDatabase(baseUrl);
      const pool = testPool(db.url, 2);
      try {
        await applyMigrations(pool, MIGRATIONS.slice(0, 1));
        const t = '2024-01-01T00:00:00.000Z';
        const tenant = parseTenant('migrated');
        const entities: Entity[] = [
          { id: 'urn:ngsi-ld:Sensor:1', types: ['https://x/Sensor'], createdAt: t, modifiedAt: t, attrs: {
            'https://x/temperature': [{ type: 'Property', value: 21.5, createdAt: t, modifiedAt: t }],
            'https://uri.etsi.org/ngsi-ld/location': [{ type: 'GeoProperty', value: { type: 'Point', coordinates: [-3.7, 40.4] }, createdAt: t, modifiedAt: t }],
          } },
          { id: 'urn:ngsi-ld:Sensor:\uFF5A', types: ['https://x/Sensor', 'https://x/Room'], createdAt: t, modifiedAt: t, attrs: {
            'https://x/temperature': [{ type: 'Property', value: 18, createdAt: t, modifiedAt: t }],
            'https://uri.etsi.org/ngsi-ld/location': [{ type: 'GeoProperty', value: { type: 'Point', coordinates: [-3.71, 40.4] }, createdAt: t, modifiedAt: t }],
          } },
          { id: 'urn:ngsi-ld:Sensor:😀', types: ['https://x/Room'], createdAt: t, modifiedAt: t, scope: ['/Madrid/Norte'], attrs: {
            'https://x/name': [{ type: 'LanguageProperty', languageMap: { en: 'Hall', FR: 'Salle' }, createdAt: t, modifiedAt: t }],
          } },
        ];
        await pool.query("INSERT INTO tenants (name, created_at) VALUES ('migrated', now())");
        for (const e of entities) {
          await pool.query(
            `WITH x AS (INSERT INTO entities (tenant, id, types, created_at, modified_at, doc)
               VALUES ($1, $2, to_jsonb($3::text[]), $4, $4, $5::json))
             INSERT INTO entity_types (tenant, id, type) SELECT $1, $2, unnest($3::text[])`,
            [tenant, e.id, e.types, t, JSON.stringify(e)],
          );
        }
        const store = await createPostgresStore({ url: db.url, poolSize: 2 });
        try {
          const listed = await store.listEntities(tenant);
          assert.deepStrictEqual(listed, entities);
          assert.deepStrictEqual(await store.getEntity(tenant, 'urn:ngsi-ld:Sensor:😀'), entities[2]);
          const queries: EntityQuery[] = [
            { q: { type: 'compare', path: { attr: 'https://x/temperature', sub: [] }, op: '>', value: { kind: 'number', value: 20 } } },
            { selectors: [{ type: { op: 'type', name: 'https://x/Room' } }], order: [{ kind: 'id', desc: false }] },
            { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 1000 }, geometry: { type: 'Point', coordinates: [-3.705, 40.4] }, geoproperty: 'https://uri.etsi.org/ngsi-ld/location' } },
            { q: { type: 'compare', path: { attr: 'https://x/name', sub: [], jsonPath: ['fr'] }, op: '==', value: { kind: 'string', value: 'Salle' } } },
            { scopeQ: { type: 'scope', levels: ['Madrid'], descendants: true } },
            { order: [{ kind: 'id', desc: true }] },
          ];
          for (const q of queries) {
            const page = { limit: 10, offset: 0, count: true };
            assert.deepStrictEqual(await store.queryEntities(tenant, q, page), referenceQuery(q, entities, page), JSON.stringify(q));
          }
          assert.deepStrictEqual(await store.discover(tenant), summarizeEntities(entities));
          assert.deepStrictEqual(await store.discover(DEFAULT_TENANT), []);
        } finally {
          await store.close();
        }
      } finally {
        await pool.end();
        await db.drop();
      }
    });
  });
}
