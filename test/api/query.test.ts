// API tests: Query Entities (GET /entities, POST /entityOperations/query) with every selection language,
// pagination and counting, and Purge Entities (§5.7.2, §5.6.21, §4.9, §4.10, §4.17, §4.19, §6.3.10).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, startKend } from '../support/harness.ts';

const kend = startKend({ KEND_MAX_PAGE_SIZE: '100', KEND_DEFAULT_PAGE_SIZE: '20' });
type E = { id: string; type: string | string[]; [k: string]: unknown };
const ids = (res: { json<T>(): T }) => res.json<E[]>().map((e) => e.id).sort();

const village: E[] = [
  { id: 'urn:ngsi-ld:Soil:1', type: 'SoilSensor', moisture: 12.5, depth: { type: 'Property', value: 30, unitCode: 'CMT' }, scope: '/Zangilan/Aghali/Field1', location: { type: 'Point', coordinates: [46.65, 39.12] }, name: 'North field' },
  { id: 'urn:ngsi-ld:Soil:2', type: 'SoilSensor', moisture: 31, depth: 60, scope: '/Zangilan/Aghali/Field2', location: { type: 'Point', coordinates: [46.66, 39.13] }, name: 'South field' },
  { id: 'urn:ngsi-ld:Soil:3', type: 'SoilSensor', moisture: 'dry', scope: '/Zangilan/Other', location: { type: 'Point', coordinates: [46.9, 39.4] } },
  { id: 'urn:ngsi-ld:Valve:1', type: ['Valve', 'Actuator'], state: 'open', controls: { type: 'Relationship', object: 'urn:ngsi-ld:Soil:1' }, address: { type: 'Property', value: { city: 'Aghali', street: 'Main' } }, installedAt: { type: 'Property', value: { '@type': 'DateTime', '@value': '2025-05-01T10:00:00Z' } } },
  { id: 'urn:ngsi-ld:Valve:2', type: 'Valve', state: 'closed', address: { type: 'Property', value: { city: 'Baku' } }, label: { type: 'LanguageProperty', languageMap: { en: 'Gate', az: 'Qapı' } } },
];

before(async () => {
  const res = await kend.post('entityOperations/create', village);
  assert.equal(res.status, 201, res.body);
});

describe('Query Entities selection', () => {
  test('a query with no type, attrs, q or geo answers 400 (too wide); id alone is not enough', async () => {
    for (const q of ['', '?id=urn:ngsi-ld:Soil:1', '?idPattern=.*', '?attrs=createdAt', '?limit=5']) {
      const res = await kend.get(`entities${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
    }
    assert.equal((await kend.get('entities?local=true')).status, 200);
  });

  test('type selection language: or, and, parentheses, multi-typing', async () => {
    assert.deepEqual(ids(await kend.get('entities?type=Valve')), ['urn:ngsi-ld:Valve:1', 'urn:ngsi-ld:Valve:2']);
    assert.deepEqual(ids(await kend.get('entities?type=Actuator')), ['urn:ngsi-ld:Valve:1']);
    assert.deepEqual(ids(await kend.get('entities?type=(Valve;Actuator)')), ['urn:ngsi-ld:Valve:1']);
    assert.equal((await kend.get('entities?type=SoilSensor,Actuator')).json<E[]>().length, 4);
    assert.equal((await kend.get('entities?type=SoilSensor|Valve')).json<E[]>().length, 5);
  });

  test('id lists and idPattern narrow the selection', async () => {
    assert.deepEqual(ids(await kend.get('entities?type=SoilSensor&id=urn:ngsi-ld:Soil:1,urn:ngsi-ld:Soil:3')), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:3']);
    assert.deepEqual(ids(await kend.get(`entities?type=SoilSensor&idPattern=${encodeURIComponent('^urn:ngsi-ld:Soil:[12]$')}`)), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.equal((await kend.get('entities?type=SoilSensor&id=notauri')).status, 400);
    assert.equal((await kend.get(`entities?type=SoilSensor&idPattern=${encodeURIComponent('([')}`)).status, 400);
  });

  test('q: comparisons, ranges, lists, regex, existence, negation, and/or precedence', async () => {
    const q = async (expr: string) => ids(await kend.get(`entities?type=SoilSensor,Valve&q=${encodeURIComponent(expr)}`));
    assert.deepEqual(await q('moisture>20'), ['urn:ngsi-ld:Soil:2']);
    assert.deepEqual(await q('moisture==10..15'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await q('moisture=="dry"'), ['urn:ngsi-ld:Soil:3']);
    assert.deepEqual(await q('moisture!=12.5'), ['urn:ngsi-ld:Soil:2', 'urn:ngsi-ld:Soil:3']);
    assert.deepEqual(await q('state=="open","closed"'), ['urn:ngsi-ld:Valve:1', 'urn:ngsi-ld:Valve:2']);
    assert.deepEqual(await q('name~="^North"'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await q('depth'), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.deepEqual(await q('!depth;moisture'), ['urn:ngsi-ld:Soil:3']);
    assert.deepEqual(await q('moisture<20|state=="closed";moisture'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await q('(moisture<20|state=="closed");depth'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await q('depth.unitCode=="CMT"'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await q('controls==urn:ngsi-ld:Soil:1'), ['urn:ngsi-ld:Valve:1']);
    assert.deepEqual(await q('address[city]=="Aghali"'), ['urn:ngsi-ld:Valve:1']);
    assert.deepEqual(await q('label[az]=="Qapı"'), ['urn:ngsi-ld:Valve:2']);
    assert.deepEqual(await q('installedAt>2025-01-01T00:00:00Z'), ['urn:ngsi-ld:Valve:1']);
  });

  test('a two-sided range on one attribute: each bound may hold for a different value of the attribute', async () => {
    const T = { 'ngsild-tenant': 'q-range' };
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:single', type: 'Probe', t: 15 }, T);
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:outside', type: 'Probe', t: 50 }, T);
    // Two instances (datasetIds): 5 satisfies t<10, 50 satisfies t>=40. An array value takes no part in
    // ordering comparisons (q-eval), whichever plan runs.
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:two', type: 'Probe', t: [{ type: 'Property', value: 5 }, { type: 'Property', value: 50, datasetId: 'urn:ngsi-ld:Dataset:b' }] }, T);
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:array', type: 'Probe', t: { type: 'Property', value: [5, 50] } }, T);
    const q = async (expr: string) => ids(await kend.get(`entities?type=Probe&q=${encodeURIComponent(expr)}`, T));
    assert.deepEqual(await q('t>=10;t<20'), ['urn:ngsi-ld:Probe:single', 'urn:ngsi-ld:Probe:two']);
    assert.deepEqual(await q('t>=40;t<10'), ['urn:ngsi-ld:Probe:two']);
    assert.deepEqual(await q('t>40;t<=50'), ['urn:ngsi-ld:Probe:outside', 'urn:ngsi-ld:Probe:two']);
    // A second instance appended later: the entity is several-valued from then on, and back when it goes.
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:grown', type: 'Probe', t: 15 }, T);
    assert.deepEqual(await q('t>=40;t<20'), ['urn:ngsi-ld:Probe:two']);
    const added = await kend.post('entities/urn:ngsi-ld:Probe:grown/attrs', { t: { type: 'Property', value: 50, datasetId: 'urn:ngsi-ld:Dataset:b' } }, T);
    assert.equal(added.status, 204, added.body);
    assert.deepEqual(await q('t>=40;t<20'), ['urn:ngsi-ld:Probe:grown', 'urn:ngsi-ld:Probe:two']);
    const dropped = await kend.del(`entities/urn:ngsi-ld:Probe:grown/attrs/t?datasetId=${encodeURIComponent('urn:ngsi-ld:Dataset:b')}`, T);
    assert.equal(dropped.status, 204, dropped.body);
    assert.deepEqual(await q('t>=40;t<20'), ['urn:ngsi-ld:Probe:two']);
    // Each string of a LanguageProperty is an alternative of its own; so is each instance of a string value.
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:words', type: 'Probe', w: { type: 'LanguageProperty', languageMap: { en: 'b', az: 'y' } } }, T);
    await kend.post('entities', { id: 'urn:ngsi-ld:Probe:word', type: 'Probe', w: 'm' }, T);
    assert.deepEqual(await q('w>="x";w<"c"'), ['urn:ngsi-ld:Probe:words']);
    assert.deepEqual(await q('w>"a";w<"n"'), ['urn:ngsi-ld:Probe:word', 'urn:ngsi-ld:Probe:words']);
    assert.deepEqual(await q('w>"c";w<"x"'), ['urn:ngsi-ld:Probe:word', 'urn:ngsi-ld:Probe:words']);
    assert.deepEqual(await q('w>"y";w<"z"'), []);
  });

  test('q syntax errors answer 400; a list with an ordering operator answers 400', async () => {
    for (const expr of ['moisture>', '(moisture>1', 'moisture>1;', 'moisture>1..2', 'rel{name}=="x"']) {
      assert.equal((await kend.get(`entities?type=SoilSensor&q=${encodeURIComponent(expr)}`)).status, 400, expr);
    }
  });

  test('a q longer than the configured limit answers 403 TooComplexQuery', async () => {
    const long = `moisture==${'1'.repeat(5000)}`;
    const res = await kend.get(`entities?type=SoilSensor&q=${long}`);
    assert.equal(res.status, 403);
    assert.equal(res.json<{ type: string }>().type, `${ERR}TooComplexQuery`);
  });

  test('scopeQ: exact, descendants, one-level wildcard', async () => {
    const s = async (expr: string) => ids(await kend.get(`entities?type=SoilSensor&scopeQ=${encodeURIComponent(expr)}`));
    assert.deepEqual(await s('/Zangilan/Aghali/Field1'), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(await s('/Zangilan/Aghali/#'), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.deepEqual(await s('/Zangilan/+'), ['urn:ngsi-ld:Soil:3']);
    assert.deepEqual(await s('/#'), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2', 'urn:ngsi-ld:Soil:3']);
    assert.equal((await kend.get('entities?type=SoilSensor&scopeQ=nope')).status, 400);
  });

  test('geo-queries: near with maxDistance and minDistance in metres, within a polygon', async () => {
    const near = (rel: string) => `entities?type=SoilSensor&georel=${encodeURIComponent(rel)}&geometry=Point&coordinates=${encodeURIComponent('[46.65,39.12]')}`;
    assert.deepEqual(ids(await kend.get(near('near;maxDistance==2000'))), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.deepEqual(ids(await kend.get(near('near;maxDistance==10'))), ['urn:ngsi-ld:Soil:1']);
    assert.deepEqual(ids(await kend.get(near('near;minDistance==2000'))), ['urn:ngsi-ld:Soil:3']);
    const poly = encodeURIComponent('[[[46.6,39.1],[46.7,39.1],[46.7,39.2],[46.6,39.2],[46.6,39.1]]]');
    assert.deepEqual(ids(await kend.get(`entities?type=SoilSensor&georel=within&geometry=Polygon&coordinates=${poly}`)), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.deepEqual(ids(await kend.get(`entities?georel=within&geometry=Polygon&coordinates=${poly}`)), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    for (const bad of ['near;maxDistance==0', 'near', 'nearby']) assert.equal((await kend.get(near(bad))).status, 400, bad);
    assert.equal((await kend.get('entities?type=SoilSensor&georel=within&geometry=Polygon')).status, 400);
  });

  test('attrs keeps entities that have at least one of the attributes, and only those attributes', async () => {
    const res = (await kend.get('entities?attrs=depth')).json<E[]>();
    assert.deepEqual(res.map((e) => e.id).sort(), ['urn:ngsi-ld:Soil:1', 'urn:ngsi-ld:Soil:2']);
    assert.deepEqual(Object.keys(res[0]!).sort(), ['depth', 'id', 'type']);
  });

  test('geo+json answers a FeatureCollection; ld+json puts @context in each element', async () => {
    const fc = await kend.get('entities?type=SoilSensor', { accept: 'application/geo+json' });
    assert.equal(fc.headers['content-type'], 'application/geo+json');
    const body = fc.json<{ type: string; features: unknown[]; '@context': unknown }>();
    assert.equal(body.type, 'FeatureCollection');
    assert.equal(body.features.length, 3);
    assert.ok(body['@context']);
    const ld = (await kend.get('entities?type=Valve', { accept: 'application/ld+json' })).json<Record<string, unknown>[]>();
    assert.ok(ld.every((e) => e['@context'] !== undefined));
    const empty = await kend.get('entities?type=Nothing', { accept: 'application/geo+json' });
    assert.deepEqual(empty.json<{ features: unknown[] }>().features, []);
  });

  test('POST /entityOperations/query takes the Query body', async () => {
    const res = await kend.post('entityOperations/query', {
      type: 'Query',
      entities: [{ type: 'SoilSensor', idPattern: '^urn:ngsi-ld:Soil:[23]$' }, { type: 'Valve', id: 'urn:ngsi-ld:Valve:2' }],
      q: 'moisture>20|state=="closed"',
    });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(ids(res), ['urn:ngsi-ld:Soil:2', 'urn:ngsi-ld:Valve:2']);
    const geo = await kend.post('entityOperations/query', { type: 'Query', geoQ: { geometry: 'Point', coordinates: [46.65, 39.12], georel: 'near;maxDistance==10' } });
    assert.deepEqual(ids(geo), ['urn:ngsi-ld:Soil:1']);
    for (const bad of [{ type: 'Other' }, { type: 'Query', entities: [] }, { type: 'Query', entities: [{ id: 'urn:x:y' }] }, { type: 'Query', q: 5 }, { type: 'Query', temporalQ: {} }, { type: 'Query' }]) {
      assert.equal((await kend.post('entityOperations/query', bad)).status, 400, JSON.stringify(bad));
    }
  });

  test('orderBy sorts by attribute value, descending on request', async () => {
    const res = (await kend.get('entities?type=SoilSensor&q=moisture&orderBy=moisture;desc')).json<E[]>();
    // Numbers sort before strings ascending; descending reverses the numbers but entities lacking the key stay last.
    assert.deepEqual(res.map((e) => e.id), ['urn:ngsi-ld:Soil:3', 'urn:ngsi-ld:Soil:2', 'urn:ngsi-ld:Soil:1']);
    assert.deepEqual((await kend.get('entities?type=SoilSensor&orderBy=id;desc')).json<E[]>().map((e) => e.id), ['urn:ngsi-ld:Soil:3', 'urn:ngsi-ld:Soil:2', 'urn:ngsi-ld:Soil:1']);
    assert.equal((await kend.get('entities?type=SoilSensor&orderBy=moisture;up')).status, 400);
  });
});

describe('Pagination and counting', () => {
  test('limit over the maximum answers 403 TooManyResults; bad limit/offset answer 400', async () => {
    const res = await kend.get('entities?type=SoilSensor&limit=101');
    assert.equal(res.status, 403);
    assert.equal(res.json<{ type: string }>().type, `${ERR}TooManyResults`);
    for (const q of ['limit=-1', 'limit=abc', 'offset=-5', 'limit=0', 'count=yes']) {
      assert.equal((await kend.get(`entities?type=SoilSensor&${q}`)).status, 400, q);
    }
  });

  test('count=true sends NGSILD-Results-Count; without it there is none; limit=0&count=true is an empty page', async () => {
    const res = await kend.get('entities?type=SoilSensor&count=true&limit=1');
    assert.equal(res.headers['ngsild-results-count'], '3');
    assert.equal(res.json<E[]>().length, 1);
    assert.equal((await kend.get('entities?type=SoilSensor')).headers['ngsild-results-count'], undefined);
    const zero = await kend.get('entities?type=SoilSensor&limit=0&count=true');
    assert.deepEqual(zero.json(), []);
    assert.equal(zero.headers['ngsild-results-count'], '3');
  });

  test('page links keep the client parameter order and appear only where a page exists', async () => {
    const first = await kend.get('entities?type=SoilSensor&limit=2');
    assert.equal(first.headers.link?.toString().includes('rel="prev"'), false);
    assert.match(String(first.headers.link), /<\/ngsi-ld\/v1\/entities\?type=SoilSensor&limit=2&offset=2>; rel="next"; type="application\/ld\+json"/);
    const last = await kend.get('entities?type=SoilSensor&limit=2&offset=2');
    assert.match(String(last.headers.link), /<\/ngsi-ld\/v1\/entities\?type=SoilSensor&limit=2&offset=0>; rel="prev"/);
    assert.equal(String(last.headers.link).includes('rel="next"'), false);
  });
});

describe('Paging through 10,000 entities', () => {
  test('every page size returns every entity exactly once and the count equals the total returned', async () => {
    const T = { 'ngsild-tenant': 'paging' };
    for (let b = 0; b < 10; b++) {
      const batch = Array.from({ length: 1000 }, (_, i) => ({ id: `urn:ngsi-ld:Lamp:${b * 1000 + i}`, type: 'StreetLight', power: (b * 1000 + i) % 97 }));
      assert.equal((await kend.post('entityOperations/create', batch, T)).status, 201);
    }
    for (const size of [100, 97, 33]) {
      const seen = new Set<string>();
      let returned = 0;
      let count: number | undefined;
      for (let offset = 0; ; offset += size) {
        const res = await kend.get(`entities?type=StreetLight&limit=${size}&offset=${offset}&count=true`, T);
        assert.equal(res.status, 200);
        count = Number(res.headers['ngsild-results-count']);
        const page = res.json<E[]>();
        for (const e of page) {
          assert.ok(!seen.has(e.id), `duplicate ${e.id} at page size ${size}`);
          seen.add(e.id);
        }
        returned += page.length;
        if (page.length < size) break;
      }
      assert.equal(seen.size, 10_000, `page size ${size}`);
      assert.equal(returned, count);
    }
    // A filtered query pages the same way.
    const filtered = new Set<string>();
    for (let offset = 0; ; offset += 100) {
      const page = (await kend.get(`entities?type=StreetLight&q=power<10&limit=100&offset=${offset}`, T)).json<E[]>();
      page.forEach((e) => filtered.add(e.id));
      if (page.length < 100) break;
    }
    assert.equal(filtered.size, Array.from({ length: 10_000 }, (_, i) => i % 97).filter((p) => p < 10).length);
  });
});

describe('Purge Entities (DELETE /entities)', () => {
  test('deletes the selected entities only; drop and keep remove attributes', async () => {
    const T = { 'ngsild-tenant': 'purge' };
    await kend.post('entityOperations/create', [
      { id: 'urn:ngsi-ld:Bin:1', type: 'WasteContainer', fill: 80, temp: 20 },
      { id: 'urn:ngsi-ld:Bin:2', type: 'WasteContainer', fill: 10, temp: 21 },
      { id: 'urn:ngsi-ld:Bin:3', type: 'WasteContainer', fill: 95, temp: 22 },
      { id: 'urn:ngsi-ld:Pole:1', type: 'Pole', fill: 90 },
    ], T);
    assert.equal((await kend.del('entities', T)).status, 400);
    assert.equal((await kend.del('entities?id=urn:ngsi-ld:Bin:1', T)).status, 400);
    assert.equal((await kend.del('entities?type=WasteContainer&drop=temp&keep=fill', T)).status, 400);
    assert.equal((await kend.del('entities?type=WasteContainer&q=fill>90', T)).status, 204);
    assert.deepEqual(ids(await kend.get('entities?type=WasteContainer', T)), ['urn:ngsi-ld:Bin:1', 'urn:ngsi-ld:Bin:2']);
    assert.equal((await kend.del('entities?type=WasteContainer&drop=temp', T)).status, 204);
    assert.ok((await kend.get('entities?type=WasteContainer', T)).json<E[]>().every((e) => e.temp === undefined && e.fill !== undefined));
    assert.equal((await kend.del('entities?type=WasteContainer&keep=temp', T)).status, 204);
    assert.ok((await kend.get('entities?type=WasteContainer', T)).json<E[]>().every((e) => e.fill === undefined));
    assert.equal((await kend.get('entities/urn:ngsi-ld:Pole:1', T)).status, 200);
  });
});

describe('Discovery (/types, /attributes)', () => {
  test('/types lists types; details and /types/{type} give attributes and counts', async () => {
    const list = (await kend.get('types')).json<{ type: string; typeList: string[] }>();
    assert.equal(list.type, 'EntityTypeList');
    assert.deepEqual(list.typeList.sort(), ['Actuator', 'SoilSensor', 'Valve']);
    const info = (await kend.get('types/SoilSensor')).json<{ entityCount: number; attributeDetails: { attributeName: string; attributeTypes: string[] }[] }>();
    assert.equal(info.entityCount, 3);
    assert.deepEqual(info.attributeDetails.map((a) => a.attributeName).sort(), ['depth', 'location', 'moisture', 'name']);
    assert.deepEqual(info.attributeDetails.find((a) => a.attributeName === 'location')!.attributeTypes, ['GeoProperty']);
    const details = (await kend.get('types?details=true')).json<{ typeName: string; attributeNames: string[] }[]>();
    assert.ok(details.find((d) => d.typeName === 'Valve')!.attributeNames.includes('state'));
    assert.equal((await kend.get('types/Nothing')).status, 404);
    assert.equal((await kend.get('types/SoilSensor?details=true')).status, 400);
  });

  test('/attributes lists attributes; /attributes/{name} gives kinds, types and the instance count', async () => {
    const list = (await kend.get('attributes')).json<{ type: string; attributeList: string[] }>();
    assert.equal(list.type, 'AttributeList');
    assert.ok(list.attributeList.includes('moisture') && !list.attributeList.includes('id'));
    const one = (await kend.get('attributes/moisture')).json<{ attributeCount: number; typeNames: string[]; attributeTypes: string[] }>();
    assert.equal(one.attributeCount, 3);
    assert.deepEqual(one.typeNames, ['SoilSensor']);
    assert.deepEqual(one.attributeTypes, ['Property']);
    assert.equal((await kend.get('attributes/nothing')).status, 404);
    assert.equal((await kend.get('attributes?limit=5')).status, 400);
  });
});

describe('Tenant isolation of queries', () => {
  test('no query, count, type or attribute listing crosses tenants; an unknown tenant answers NonexistentTenant', async () => {
    const A = { 'ngsild-tenant': 'iso-a' };
    const B = { 'ngsild-tenant': 'iso-b' };
    await kend.post('entities', { id: 'urn:ngsi-ld:X:1', type: 'OnlyInA', secretA: 1 }, A);
    await kend.post('entities', { id: 'urn:ngsi-ld:X:1', type: 'OnlyInB', secretB: 1 }, B);
    assert.deepEqual((await kend.get('entities?type=OnlyInA', B)).json(), []);
    assert.equal((await kend.get('entities?local=true&count=true', B)).headers['ngsild-results-count'], '1');
    assert.deepEqual((await kend.get('types', B)).json<{ typeList: string[] }>().typeList, ['OnlyInB']);
    assert.deepEqual((await kend.get('attributes', A)).json<{ attributeList: string[] }>().attributeList, ['secretA']);
    assert.equal((await kend.get('attributes/secretA', B)).status, 404);
    const unknown = await kend.get('entities?local=true', { 'ngsild-tenant': 'iso-none' });
    assert.equal(unknown.json<{ type: string }>().type, `${ERR}NonexistentTenant`);
    assert.equal((await kend.get('types', { 'ngsild-tenant': 'iso-none' })).status, 404);
  });
});
