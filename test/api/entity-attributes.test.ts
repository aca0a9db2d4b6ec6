// API tests: append, update, partial update, replace and delete of attributes, and merge (§5.6.2–5.6.5, §5.6.17, §5.6.19).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, startKend } from '../support/harness.ts';

const kend = startKend();
let n = 0;

async function fresh(extra: Record<string, unknown> = {}): Promise<string> {
  const id = `urn:ngsi-ld:Valve:v${++n}`;
  const res = await kend.post('entities', {
    id,
    type: 'Valve',
    flow: { type: 'Property', value: 10, unitCode: 'LTR', observedAt: '2026-11-01T10:00:00Z', accuracy: { type: 'Property', value: 0.5 } },
    ...extra,
  });
  assert.equal(res.status, 201, res.body);
  return id;
}

async function read(id: string, q = ''): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await kend.get(`entities/${id}${q}`);
  assert.equal(res.status, 200, res.body);
  return res.json();
}

describe('Append Attributes (POST /entities/{id}/attrs)', () => {
  test('adds new attributes and overwrites existing ones, answering 204', async () => {
    const id = await fresh();
    const res = await kend.post(`entities/${id}/attrs`, { flow: { type: 'Property', value: 20 }, state: { type: 'Property', value: 'open' } });
    assert.equal(res.status, 204);
    const e = await read(id);
    assert.deepEqual(e.flow, { type: 'Property', value: 20 });
    assert.equal(e.state.value, 'open');
  });

  test('noOverwrite keeps existing attributes and answers 207 listing them as not updated', async () => {
    const id = await fresh();
    const res = await kend.post(`entities/${id}/attrs?options=noOverwrite`, { flow: { type: 'Property', value: 99 }, state: 'closed' });
    assert.equal(res.status, 207);
    assert.equal(res.headers['content-type'], 'application/json');
    const r = res.json<{ updated: string[]; notUpdated: { attributeName: string; reason: string }[] }>();
    assert.deepEqual(r.updated, ['https://uri.etsi.org/ngsi-ld/default-context/state']);
    assert.equal(r.notUpdated[0]!.attributeName, 'https://uri.etsi.org/ngsi-ld/default-context/flow');
    assert.equal((await read(id)).flow.value, 10);
  });

  test('a new datasetId adds an instance next to the default one', async () => {
    const id = await fresh();
    await kend.post(`entities/${id}/attrs`, { flow: { type: 'Property', value: 3, datasetId: 'urn:ngsi-ld:Dataset:b' } });
    const e = await read(id);
    assert.ok(Array.isArray(e.flow));
    assert.equal(e.flow.length, 2);
  });

  test('an unknown entity answers 404; invalid content answers 400 even for an unknown entity', async () => {
    assert.equal((await kend.post('entities/urn:ngsi-ld:Valve:none/attrs', { a: 1 })).status, 404);
    const bad = await kend.post('entities/urn:ngsi-ld:Valve:none/attrs', { a: { type: 'Property', value: null } });
    assert.equal(bad.status, 400);
  });

  test('types in the fragment are added to the entity', async () => {
    const id = await fresh();
    await kend.post(`entities/${id}/attrs`, { type: 'Actuator' });
    assert.deepEqual((await read(id)).type, ['Valve', 'Actuator']);
  });
});

describe('Update Attributes (PATCH /entities/{id}/attrs)', () => {
  test('replaces each instance whole: sub-attributes and unitCode not re-sent are gone, createdAt kept', async () => {
    const id = await fresh();
    const before = await read(id, '?options=sysAttrs');
    const res = await kend.patch(`entities/${id}/attrs`, { flow: { type: 'Property', value: 12 } });
    assert.equal(res.status, 204);
    const after = await read(id, '?options=sysAttrs');
    assert.equal(after.flow.value, 12);
    assert.equal(after.flow.unitCode, undefined);
    assert.equal(after.flow.accuracy, undefined);
    assert.equal(after.flow.createdAt, before.flow.createdAt);
    assert.ok(after.modifiedAt >= before.modifiedAt);
  });

  test('attributes that do not exist yet are appended (1.9.1)', async () => {
    const id = await fresh();
    assert.equal((await kend.patch(`entities/${id}/attrs`, { pressure: 2 })).status, 204);
    assert.equal((await read(id)).pressure.value, 2);
  });

  test('the NGSI-LD Null deletes the attribute', async () => {
    const id = await fresh();
    assert.equal((await kend.patch(`entities/${id}/attrs`, { flow: 'urn:ngsi-ld:null' })).status, 204);
    assert.equal((await read(id)).flow, undefined);
  });

  test('an unknown entity answers 404', async () => {
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Valve:none/attrs', { a: 1 })).status, 404);
  });
});

describe('Partial Attribute Update (PATCH /entities/{id}/attrs/{attrId})', () => {
  test('changes only the members sent; unitCode and sub-attributes survive', async () => {
    const id = await fresh();
    const res = await kend.patch(`entities/${id}/attrs/flow`, { value: 15 });
    assert.equal(res.status, 204);
    const e = await read(id);
    assert.equal(e.flow.value, 15);
    assert.equal(e.flow.unitCode, 'LTR');
    assert.equal(e.flow.accuracy.value, 0.5);
  });

  test('an unknown attribute or entity answers 404; an empty fragment answers 400', async () => {
    const id = await fresh();
    assert.equal((await kend.patch(`entities/${id}/attrs/nothing`, { value: 1 })).status, 404);
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Valve:none/attrs/flow', { value: 1 })).status, 404);
    assert.equal((await kend.patch(`entities/${id}/attrs/flow`, {})).status, 400);
  });

  test('changing the kind of the attribute answers 400 and changes nothing', async () => {
    const id = await fresh();
    const res = await kend.patch(`entities/${id}/attrs/flow`, { type: 'Relationship', object: 'urn:ngsi-ld:X:1' });
    assert.equal(res.status, 400);
    assert.equal((await read(id)).flow.value, 10);
  });

  test('an invalid attribute name in the path answers 400', async () => {
    const id = await fresh();
    for (const name of ['invalid(Name', '%40invalid', '%2e%2e']) {
      const res = await kend.patch(`entities/${id}/attrs/${name}`, { value: 1 });
      assert.equal(res.status, 400, name);
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
    }
  });
});

describe('Replace Attribute (PUT /entities/{id}/attrs/{attrId})', () => {
  test('replaces the instance entirely and keeps its createdAt', async () => {
    const id = await fresh();
    const before = await read(id, '?options=sysAttrs');
    const res = await kend.put(`entities/${id}/attrs/flow`, { type: 'Property', value: 1 });
    assert.equal(res.status, 204);
    const after = await read(id, '?options=sysAttrs');
    assert.equal(after.flow.value, 1);
    assert.equal(after.flow.unitCode, undefined);
    assert.equal(after.flow.createdAt, before.flow.createdAt);
  });

  test('an unknown attribute answers 404', async () => {
    const id = await fresh();
    assert.equal((await kend.put(`entities/${id}/attrs/nothing`, { type: 'Property', value: 1 })).status, 404);
  });
});

describe('Delete Attribute (DELETE /entities/{id}/attrs/{attrId})', () => {
  test('deletes the default instance only, unless datasetId or deleteAll says otherwise', async () => {
    const id = await fresh();
    await kend.post(`entities/${id}/attrs`, { flow: [{ type: 'Property', value: 3, datasetId: 'urn:ngsi-ld:Dataset:b' }] });
    assert.equal((await kend.del(`entities/${id}/attrs/flow`)).status, 204);
    let e = await read(id);
    assert.deepEqual(e.flow, { type: 'Property', value: 3, datasetId: 'urn:ngsi-ld:Dataset:b' });
    await kend.post(`entities/${id}/attrs`, { flow: { type: 'Property', value: 4 } });
    assert.equal((await kend.del(`entities/${id}/attrs/flow?datasetId=urn:ngsi-ld:Dataset:b`)).status, 204);
    e = await read(id);
    assert.deepEqual(e.flow, { type: 'Property', value: 4 });
    await kend.post(`entities/${id}/attrs`, { flow: { type: 'Property', value: 5, datasetId: 'urn:ngsi-ld:Dataset:c' } });
    assert.equal((await kend.del(`entities/${id}/attrs/flow?deleteAll=true`)).status, 204);
    assert.equal((await read(id)).flow, undefined);
  });

  test('an unknown attribute, instance or entity answers 404', async () => {
    const id = await fresh();
    assert.equal((await kend.del(`entities/${id}/attrs/nothing`)).status, 404);
    assert.equal((await kend.del(`entities/${id}/attrs/flow?datasetId=urn:ngsi-ld:Dataset:zz`)).status, 404);
    assert.equal((await kend.del('entities/urn:ngsi-ld:Valve:none/attrs/flow')).status, 404);
  });

  test('deleting scope removes the entity scope', async () => {
    const id = await fresh({ scope: '/Zangilan/Aghali' });
    assert.equal((await read(id)).scope, '/Zangilan/Aghali');
    assert.equal((await kend.del(`entities/${id}/attrs/scope`)).status, 204);
    assert.equal((await read(id)).scope, undefined);
  });
});

describe('Merge Entity (PATCH /entities/{id})', () => {
  test('merges members, keeps untouched ones, and the NGSI-LD Null deletes', async () => {
    const id = await fresh({ address: { type: 'Property', value: { city: 'Aghali', street: 'Main', zip: '1000' } }, state: 'open' });
    const res = await kend.patch(`entities/${id}`, {
      flow: { value: 11, observedAt: '2026-11-02T00:00:00Z' },
      address: { value: { street: 'Second', zip: 'urn:ngsi-ld:null' } },
      state: 'urn:ngsi-ld:null',
    });
    assert.equal(res.status, 204, res.body);
    const e = await read(id);
    assert.equal(e.flow.value, 11);
    assert.equal(e.flow.unitCode, 'LTR');
    assert.equal(e.flow.accuracy.value, 0.5);
    assert.deepEqual(e.address.value, { city: 'Aghali', street: 'Second' });
    assert.equal(e.state, undefined);
  });

  test('a keyValues merge keeps a Relationship a Relationship', async () => {
    const id = await fresh({ controlledBy: { type: 'Relationship', object: 'urn:ngsi-ld:Device:a' } });
    assert.equal((await kend.patch(`entities/${id}?options=keyValues`, { controlledBy: 'urn:ngsi-ld:Device:b', flow: 7 })).status, 204);
    const e = await read(id);
    assert.deepEqual(e.controlledBy, { type: 'Relationship', object: 'urn:ngsi-ld:Device:b' });
    assert.equal(e.flow.value, 7);
  });

  test('accepts application/merge-patch+json', async () => {
    const id = await fresh();
    const res = await kend.request('PATCH', `entities/${id}`, { body: { flow: 1 }, headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(res.status, 204);
  });

  test('JSON null is not a deletion marker: 400', async () => {
    const id = await fresh();
    assert.equal((await kend.patch(`entities/${id}`, { flow: null })).status, 400);
  });

  test('an unknown entity answers 404', async () => {
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Valve:none', { flow: 1 })).status, 404);
  });
});
