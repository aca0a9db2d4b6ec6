// API tests: batch create, upsert, update, merge and delete (§5.6.7–5.6.10, §5.6.20).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, startKend } from '../support/harness.ts';

const kend = startKend({ KEND_MAX_BATCH_SIZE: '50' });
const meter = (id: string, reading = 1) => ({ id, type: 'WaterMeter', reading: { type: 'Property', value: reading } });
type Result = { success: string[]; errors: { entityId: string; error: { type: string; status: number; title: string; detail: string } }[] };

describe('Batch create', () => {
  test('all created: 201 with the array of ids', async () => {
    const res = await kend.post('entityOperations/create', [meter('urn:ngsi-ld:WaterMeter:c1'), meter('urn:ngsi-ld:WaterMeter:c2')]);
    assert.equal(res.status, 201);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.json(), ['urn:ngsi-ld:WaterMeter:c1', 'urn:ngsi-ld:WaterMeter:c2']);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:c2')).status, 200);
  });

  test('a bad element and a duplicate give 207; the good ones are written', async () => {
    const res = await kend.post('entityOperations/create', [
      meter('urn:ngsi-ld:WaterMeter:c3'),
      { id: 'urn:ngsi-ld:WaterMeter:c4', type: 'WaterMeter', reading: { type: 'Property', value: null } },
      meter('urn:ngsi-ld:WaterMeter:c3'),
      meter('urn:ngsi-ld:WaterMeter:c1'),
    ]);
    assert.equal(res.status, 207);
    const r = res.json<Result>();
    assert.deepEqual(r.success, ['urn:ngsi-ld:WaterMeter:c3']);
    assert.deepEqual(r.errors.map((e) => [e.entityId, e.error.type]), [
      ['urn:ngsi-ld:WaterMeter:c4', `${ERR}BadRequestData`],
      ['urn:ngsi-ld:WaterMeter:c3', `${ERR}AlreadyExists`],
      ['urn:ngsi-ld:WaterMeter:c1', `${ERR}AlreadyExists`],
    ]);
    assert.ok(r.errors.every((e) => e.error.title && e.error.detail && e.error.status));
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:c4')).status, 404);
  });

  test('whole-request errors: not JSON, not an array, empty array, null element, over the maximum size', async () => {
    assert.equal((await kend.request('POST', 'entityOperations/create', { rawBody: '[' })).json<{ type: string }>().type, `${ERR}InvalidRequest`);
    assert.equal((await kend.post('entityOperations/create', { id: 'x' })).json<{ type: string }>().type, `${ERR}InvalidRequest`);
    assert.equal((await kend.post('entityOperations/create', [])).json<{ type: string }>().type, `${ERR}BadRequestData`);
    const withNull = await kend.post('entityOperations/create', [meter('urn:ngsi-ld:WaterMeter:n1'), null]);
    assert.equal(withNull.status, 400);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:n1')).status, 404);
    const many = Array.from({ length: 51 }, (_, i) => meter(`urn:ngsi-ld:WaterMeter:big${i}`));
    const tooMany = await kend.post('entityOperations/create', many);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.json<{ detail: string }>().detail, /maximum is 50/);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:big0')).status, 404);
  });

  test('all items of one batch share one modifiedAt', async () => {
    await kend.post('entityOperations/create', [meter('urn:ngsi-ld:WaterMeter:m1'), meter('urn:ngsi-ld:WaterMeter:m2')]);
    const a = (await kend.get('entities/urn:ngsi-ld:WaterMeter:m1?options=sysAttrs')).json<{ modifiedAt: string }>();
    const b = (await kend.get('entities/urn:ngsi-ld:WaterMeter:m2?options=sysAttrs')).json<{ modifiedAt: string }>();
    assert.equal(a.modifiedAt, b.modifiedAt);
  });

  test('with application/ld+json each element carries its own @context; a missing one fails that element', async () => {
    const ctx = { reading: 'https://water.example/reading' };
    const res = await kend.post(
      'entityOperations/create',
      [{ ...meter('urn:ngsi-ld:WaterMeter:ld1'), '@context': ctx }, meter('urn:ngsi-ld:WaterMeter:ld2')],
      { 'content-type': 'application/ld+json' },
    );
    assert.equal(res.status, 207);
    assert.deepEqual(res.json<Result>().success, ['urn:ngsi-ld:WaterMeter:ld1']);
    assert.ok('https://water.example/reading' in (await kend.get('entities/urn:ngsi-ld:WaterMeter:ld1')).json<object>());
  });
});

describe('Batch upsert', () => {
  test('201 with only the newly created ids; existing entities are replaced by default', async () => {
    await kend.post('entities', { ...meter('urn:ngsi-ld:WaterMeter:u1'), extra: 1 });
    const res = await kend.post('entityOperations/upsert', [meter('urn:ngsi-ld:WaterMeter:u1', 5), meter('urn:ngsi-ld:WaterMeter:u2')]);
    assert.equal(res.status, 201);
    assert.deepEqual(res.json(), ['urn:ngsi-ld:WaterMeter:u2']);
    const u1 = (await kend.get('entities/urn:ngsi-ld:WaterMeter:u1')).json<Record<string, unknown>>();
    assert.equal(u1.extra, undefined);
    assert.deepEqual(u1.reading, { type: 'Property', value: 5 });
  });

  test('204 when all were updates; options=update keeps other attributes', async () => {
    await kend.post('entities', { ...meter('urn:ngsi-ld:WaterMeter:u3'), extra: 1 });
    const res = await kend.post('entityOperations/upsert?options=update', [meter('urn:ngsi-ld:WaterMeter:u3', 9)]);
    assert.equal(res.status, 204);
    const u3 = (await kend.get('entities/urn:ngsi-ld:WaterMeter:u3')).json<Record<string, { value: number }>>();
    assert.equal(u3.extra!.value, 1);
    assert.equal(u3.reading!.value, 9);
  });

  test('the same id twice: the first creates, the last wins, the id is listed once', async () => {
    const res = await kend.post('entityOperations/upsert', [meter('urn:ngsi-ld:WaterMeter:u4', 1), meter('urn:ngsi-ld:WaterMeter:u4', 2)]);
    assert.equal(res.status, 201);
    assert.deepEqual(res.json(), ['urn:ngsi-ld:WaterMeter:u4']);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:u4')).json<{ reading: { value: number } }>().reading.value, 2);
  });

  test('createdAt survives an upsert replace', async () => {
    await kend.post('entities', meter('urn:ngsi-ld:WaterMeter:u5'));
    const before = (await kend.get('entities/urn:ngsi-ld:WaterMeter:u5?options=sysAttrs')).json<{ createdAt: string }>();
    await kend.post('entityOperations/upsert', [meter('urn:ngsi-ld:WaterMeter:u5', 3)]);
    const after = (await kend.get('entities/urn:ngsi-ld:WaterMeter:u5?options=sysAttrs')).json<{ createdAt: string }>();
    assert.equal(after.createdAt, before.createdAt);
  });
});

describe('Batch update', () => {
  test('appends and overwrites attributes of existing entities: 204', async () => {
    await kend.post('entities', meter('urn:ngsi-ld:WaterMeter:p1'));
    const res = await kend.post('entityOperations/update', [{ id: 'urn:ngsi-ld:WaterMeter:p1', reading: 7, leak: false }]);
    assert.equal(res.status, 204);
    const e = (await kend.get('entities/urn:ngsi-ld:WaterMeter:p1')).json<Record<string, { value: unknown }>>();
    assert.equal(e.reading!.value, 7);
    assert.equal(e.leak!.value, false);
  });

  test('a missing entity and a noOverwrite conflict give 207', async () => {
    await kend.post('entities', meter('urn:ngsi-ld:WaterMeter:p2'));
    const res = await kend.post('entityOperations/update?options=noOverwrite', [
      { id: 'urn:ngsi-ld:WaterMeter:p2', reading: 8 },
      { id: 'urn:ngsi-ld:WaterMeter:none', reading: 8 },
    ]);
    assert.equal(res.status, 207);
    const r = res.json<Result>();
    assert.deepEqual(r.errors.map((e) => e.error.type), [`${ERR}BadRequestData`, `${ERR}ResourceNotFound`]);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:p2')).json<{ reading: { value: number } }>().reading.value, 1);
  });
});

describe('Batch merge', () => {
  test('merges into existing entities and the NGSI-LD Null deletes', async () => {
    await kend.post('entities', { ...meter('urn:ngsi-ld:WaterMeter:g1'), extra: 1 });
    const res = await kend.post('entityOperations/merge', [{ id: 'urn:ngsi-ld:WaterMeter:g1', extra: 'urn:ngsi-ld:null', reading: { value: 4 } }]);
    assert.equal(res.status, 204);
    const e = (await kend.get('entities/urn:ngsi-ld:WaterMeter:g1')).json<Record<string, { value: number }>>();
    assert.equal(e.extra, undefined);
    assert.equal(e.reading!.value, 4);
  });

  test('an unknown entity gives 207 with ResourceNotFound', async () => {
    const res = await kend.post('entityOperations/merge', [{ id: 'urn:ngsi-ld:WaterMeter:none', reading: 1 }]);
    assert.equal(res.status, 207);
    assert.equal(res.json<Result>().errors[0]!.error.type, `${ERR}ResourceNotFound`);
  });
});

describe('Batch delete', () => {
  test('deletes listed ids: 204; an unknown or repeated id gives 207', async () => {
    await kend.post('entityOperations/create', [meter('urn:ngsi-ld:WaterMeter:d1'), meter('urn:ngsi-ld:WaterMeter:d2')]);
    assert.equal((await kend.post('entityOperations/delete', ['urn:ngsi-ld:WaterMeter:d1'])).status, 204);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:d1')).status, 404);
    const res = await kend.post('entityOperations/delete', ['urn:ngsi-ld:WaterMeter:d2', 'urn:ngsi-ld:WaterMeter:d2', 'not a uri']);
    assert.equal(res.status, 207);
    const r = res.json<Result>();
    assert.deepEqual(r.success, ['urn:ngsi-ld:WaterMeter:d2']);
    assert.deepEqual(r.errors.map((e) => e.error.type), [`${ERR}ResourceNotFound`, `${ERR}BadRequestData`]);
  });
});

describe('Batch tenancy', () => {
  test('create and upsert create a tenant; update, merge and delete answer NonexistentTenant', async () => {
    const T = { 'ngsild-tenant': 'batchland' };
    for (const op of ['update', 'merge', 'delete']) {
      const body = op === 'delete' ? ['urn:ngsi-ld:WaterMeter:t1'] : [meter('urn:ngsi-ld:WaterMeter:t1')];
      const res = await kend.post(`entityOperations/${op}`, body, T);
      assert.equal(res.json<{ type: string }>().type, `${ERR}NonexistentTenant`, op);
    }
    assert.equal((await kend.post('entityOperations/upsert', [meter('urn:ngsi-ld:WaterMeter:t1')], T)).status, 201);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WaterMeter:t1', T)).status, 200);
  });
});
