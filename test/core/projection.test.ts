// Tests for pick / omit / attrs parsing and selection (GS CIM 009 §4.21).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import {
  entityMatchesAttrs,
  keepsAttribute,
  keepsMember,
  parseProjection,
} from '../../src/core/model/projection.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const terms: TermMap = {
  expandTerm: (n) => (n === 'location' ? LOCATION : n.includes(':') ? n : DC + n),
  compactIri: (iri) => (iri === LOCATION ? 'location' : iri.startsWith(DC) ? iri.slice(DC.length) : iri),
};

function badRequest(fn: () => unknown, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NgsiError);
    assert.equal(err.kind, 'BadRequestData');
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

const T = '2024-01-01T00:00:00Z';
const entity: Entity = {
  id: 'urn:ngsi-ld:Room:1',
  types: [DC + 'Room'],
  createdAt: T,
  modifiedAt: T,
  attrs: {
    [DC + 'temperature']: [{ type: 'Property', value: 21, createdAt: T, modifiedAt: T }],
    [DC + 'empty']: [],
  },
};

describe('parseProjection', () => {
  test('absent parameters give an empty projection that keeps everything', () => {
    const p = parseProjection({}, terms);
    assert.deepEqual(p, {});
    assert.ok(keepsMember(p, 'id'));
    assert.ok(keepsAttribute(p, DC + 'x'));
  });

  test('pick separates entity members from attribute names and expands the names', () => {
    const p = parseProjection({ pick: 'id,name,location|scope' }, terms);
    assert.deepEqual([...(p.pick?.members ?? [])], ['id', 'scope']);
    assert.deepEqual([...(p.pick?.attrs ?? [])], [DC + 'name', LOCATION]);
  });

  test('comma and pipe separators are equivalent', () => {
    const a = parseProjection({ omit: 'a,b' }, terms);
    const b = parseProjection({ omit: 'a|b' }, terms);
    assert.deepEqual(a, b);
  });

  test('full IRIs and compact IRIs are accepted as names', () => {
    const p = parseProjection({ pick: 'https://example.org/speed,ex:color' }, terms);
    assert.deepEqual([...(p.pick?.attrs ?? [])], ['https://example.org/speed', 'ex:color']);
  });

  test('attrs keeps the listed attributes as FQNs', () => {
    const p = parseProjection({ attrs: 'temperature,humidity' }, terms);
    assert.deepEqual([...(p.attrs ?? [])], [DC + 'temperature', DC + 'humidity']);
  });

  test('pick and omit may be combined when they name different members', () => {
    const p = parseProjection({ pick: 'name', omit: 'id' }, terms);
    assert.ok(p.pick && p.omit);
  });

  test('the same attribute in pick and omit is rejected', () => {
    badRequest(() => parseProjection({ pick: 'name,id', omit: 'name' }, terms), /both pick and omit/);
  });

  test('the same entity member in pick and omit is rejected', () => {
    badRequest(() => parseProjection({ pick: 'id', omit: 'type,id' }, terms), /both pick and omit/);
  });

  test('pick or omit combined with attrs is rejected', () => {
    badRequest(() => parseProjection({ pick: 'a', attrs: 'b' }, terms), /attrs/);
    badRequest(() => parseProjection({ omit: 'a', attrs: 'b' }, terms), /attrs/);
  });

  for (const bad of ['id;name', 'id,,name', 'a||b', ',a', 'a,', '', 'rel{a', 'rel{{a}}', 'rel{a}}', 'rel{}', 'rel{,name}', '{a}', 'a}', 'my attr', 'rel{a}b']) {
    test(`the grammar error '${bad}' is rejected with BadRequestData`, () => {
      badRequest(() => parseProjection({ pick: bad }, terms));
      badRequest(() => parseProjection({ omit: bad }, terms));
    });
  }

  test('a grammar error in attrs is rejected', () => {
    badRequest(() => parseProjection({ attrs: 'a,,b' }, terms));
  });

  test('a well-formed nested projection is rejected because it requires join', () => {
    badRequest(() => parseProjection({ pick: 'name,owner{name}' }, terms), /requires join/);
    badRequest(() => parseProjection({ omit: 'owner{age,pet{name}}' }, terms), /requires join/);
    badRequest(() => parseProjection({ attrs: 'owner{age}' }, terms), /requires join/);
  });
});

describe('projection selection', () => {
  test('pick keeps only the listed members: id and type are not kept implicitly', () => {
    const p = parseProjection({ pick: 'name' }, terms);
    assert.equal(keepsMember(p, 'id'), false);
    assert.equal(keepsMember(p, 'type'), false);
    assert.equal(keepsAttribute(p, DC + 'name'), true);
    assert.equal(keepsAttribute(p, DC + 'other'), false);
  });

  test('omit drops the listed members and keeps the rest', () => {
    const p = parseProjection({ omit: 'id,name' }, terms);
    assert.equal(keepsMember(p, 'id'), false);
    assert.equal(keepsMember(p, 'type'), true);
    assert.equal(keepsAttribute(p, DC + 'name'), false);
    assert.equal(keepsAttribute(p, DC + 'other'), true);
  });

  test('attrs keeps id and type, not scope (not an attribute), and only the listed attributes', () => {
    const p = parseProjection({ attrs: 'name' }, terms);
    assert.ok(keepsMember(p, 'id') && keepsMember(p, 'type'));
    assert.equal(keepsMember(p, 'scope'), false);
    assert.equal(keepsAttribute(p, DC + 'name'), true);
    assert.equal(keepsAttribute(p, DC + 'other'), false);
  });
});

describe('entityMatchesAttrs', () => {
  test('an entity matches when it holds at least one of the attrs', () => {
    assert.ok(entityMatchesAttrs(entity, parseProjection({ attrs: 'humidity,temperature' }, terms)));
  });

  test('an entity holding none of the attrs does not match', () => {
    assert.equal(entityMatchesAttrs(entity, parseProjection({ attrs: 'humidity' }, terms)), false);
  });

  test('an attribute with no instance does not count as held', () => {
    assert.equal(entityMatchesAttrs(entity, parseProjection({ attrs: 'empty' }, terms)), false);
  });

  test('without attrs every entity matches, whatever pick or omit say', () => {
    assert.ok(entityMatchesAttrs(entity, undefined));
    assert.ok(entityMatchesAttrs(entity, parseProjection({ pick: 'humidity' }, terms)));
  });
});
