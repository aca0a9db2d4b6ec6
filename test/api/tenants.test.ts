// API tests: multi-tenancy through NGSILD-Tenant (§4.14, §6.3.14): creation by first write, isolation, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, startKend } from '../support/harness.ts';

const kend = startKend();
const T = (tenant: string) => ({ 'ngsild-tenant': tenant });

describe('Multi-tenancy', () => {
  test('a tenant is created by its first entity creation and the header is echoed', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Meter:1', type: 'Meter', reading: 5 }, T('aghali'));
    assert.equal(res.status, 201);
    assert.equal(res.headers['ngsild-tenant'], 'aghali');
    const got = await kend.get('entities/urn:ngsi-ld:Meter:1', T('aghali'));
    assert.equal(got.status, 200);
    assert.equal(got.headers['ngsild-tenant'], 'aghali');
  });

  test('reading an unknown tenant answers 404 NonexistentTenant, echoing the header', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:Meter:1', T('nowhere'));
    assert.equal(res.status, 404);
    assert.equal(res.json<{ type: string }>().type, `${ERR}NonexistentTenant`);
    assert.equal(res.headers['ngsild-tenant'], 'nowhere');
  });

  test('non-creating writes on an unknown tenant answer NonexistentTenant and do not create it', async () => {
    for (const res of [
      await kend.patch('entities/urn:ngsi-ld:Meter:1/attrs', { reading: 1 }, T('ghost')),
      await kend.post('entities/urn:ngsi-ld:Meter:1/attrs', { reading: 1 }, T('ghost')),
      await kend.del('entities/urn:ngsi-ld:Meter:1', T('ghost')),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.json<{ type: string }>().type, `${ERR}NonexistentTenant`);
    }
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:1', T('ghost'))).json<{ type: string }>().type, `${ERR}NonexistentTenant`);
  });

  test('a failed create does not create the tenant', async () => {
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Meter:bad', type: 'Meter', x: { type: 'Property', value: null } }, T('failed'))).status, 400);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:bad', T('failed'))).json<{ type: string }>().type, `${ERR}NonexistentTenant`);
  });

  test('the same id in two tenants are two entities; nothing crosses tenants', async () => {
    await kend.post('entities', { id: 'urn:ngsi-ld:Meter:2', type: 'Meter', reading: 1 }, T('villageA'));
    await kend.post('entities', { id: 'urn:ngsi-ld:Meter:2', type: 'Meter', reading: 2 }, T('villageB'));
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:2', T('villageA'))).json<{ reading: { value: number } }>().reading.value, 1);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:2', T('villageB'))).json<{ reading: { value: number } }>().reading.value, 2);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:2')).status, 404);
    await kend.del('entities/urn:ngsi-ld:Meter:2', T('villageA'));
    assert.equal((await kend.get('entities/urn:ngsi-ld:Meter:2', T('villageB'))).status, 200);
    const err = await kend.get('entities/urn:ngsi-ld:Meter:2', T('villageA'));
    assert.equal(err.status, 404);
    assert.ok(!err.body.includes('villageB'));
  });

  test('an invalid tenant name answers 400 BadRequestData', async () => {
    for (const name of ['bad name', 'a/b', 'x'.repeat(51)]) {
      const res = await kend.post('entities', { id: 'urn:ngsi-ld:Meter:3', type: 'Meter' }, T(name));
      assert.equal(res.status, 400, name);
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
    }
  });
});
