// In-memory evaluation of q on entities (GS CIM 009 §4.9; guide §8.2 paths, §8.3 comparison semantics).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import type { JsonValue } from '../../src/core/json.ts';
import { parseQ } from '../../src/core/query/q-parse.ts';
import { evaluateQ } from '../../src/core/query/q-eval.ts';

const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
const terms: TermMap = {
  expandTerm: (name) => (name === 'location' ? 'https://uri.etsi.org/ngsi-ld/location' : name.includes(':') ? name : DEFAULT + name),
  compactIri: (iri) => iri,
};
const T0 = '2024-01-01T00:00:00Z';

type Extra = Partial<AttrInstance>;
const inst = (type: AttrInstance['type'], members: Extra): AttrInstance => ({ type, createdAt: T0, modifiedAt: T0, ...members });
const prop = (value: JsonValue, extra: Extra = {}): AttrInstance => inst('Property', { value, ...extra });
const rel = (object: string | string[], extra: Extra = {}): AttrInstance => inst('Relationship', { object, ...extra });

function entity(attrs: Record<string, AttrInstance | AttrInstance[]>): Entity {
  const map: Entity['attrs'] = {};
  for (const [k, v] of Object.entries(attrs)) map[terms.expandTerm(k)] = Array.isArray(v) ? v : [v];
  return { id: 'urn:ngsi-ld:Thing:1', types: [DEFAULT + 'Thing'], createdAt: T0, modifiedAt: T0, attrs: map };
}

const sub = (attrs: Record<string, AttrInstance>): Record<string, AttrInstance[]> =>
  Object.fromEntries(Object.entries(attrs).map(([k, v]) => [terms.expandTerm(k), [v]]));

function check(e: Entity, cases: Record<string, boolean>): void {
  for (const [text, expected] of Object.entries(cases)) {
    assert.equal(evaluateQ(parseQ(text, terms, { maxLength: 1000 }), e), expected, text);
  }
}

describe('evaluateQ: logic', () => {
  const e = entity({ a: prop(1), b: prop(2), c: prop(3) });

  test('evaluates AND before OR and honours parentheses', () => {
    check(e, {
      'a==1|b==0;c==0': true,
      '(a==1|b==0);c==0': false,
      'a==0|b==2;c==3': true,
      'a==0|b==2;c==0': false,
      '((a==1;b==2)|x==1);c==3': true,
    });
  });

  test('tests existence and non-existence, also combined', () => {
    check(e, { a: true, x: false, '!x': true, '!a': false, '!x;b>1': true, '!a|c==3': true });
  });
});

describe('evaluateQ: type-strict comparisons (§8.3)', () => {
  const e = entity({ n: prop(30), s: prop('30'), t: prop(true), name: prop('m'), when: prop('2024-05-01T10:00:00Z'), obj: prop({ k: 1 }) });

  test('never matches a number with a string, for == and the ordering operators', () => {
    check(e, { 'n==30': true, 'n=="30"': false, 's=="30"': true, 's==30': false, 's>20': false, 'n>"20"': false, 'n>=30': true });
  });

  test('counts differing types as unequal for !=', () => {
    check(e, { 'n!="30"': true, 's!=30': true, 'n!=30': false, 'obj!=1': true, 't!=1': true, 't!=true': false, 't==true': true });
  });

  test('compares strings by UTF-16 code units', () => {
    const z = entity({ name: prop('z') });
    check(z, { 'name>"m"': true });
    check(e, { 'name>"m"': false, 'name>="m"': true, 'name<"n"': true });
    check(entity({ name: prop('\u{1F600}') }), { 'name>"\uffff"': false });
  });

  test('compares DateTimes chronologically, whatever the fraction length', () => {
    check(e, {
      'when==2024-05-01T10:00:00.000Z': true,
      'when>2024-05-01T09:59:59.999999Z': true,
      'when<2024-05-01T10:00:00.000001Z': true,
      'when=="2024-05-01T10:00:00.000Z"': false,
      'n>2024-01-01T00:00:00Z': false,
    });
  });

  test('compares Dates and Times chronologically against strings that parse as such', () => {
    const d = entity({ day: prop('2024-05-01'), at: prop('10:00:00.5Z'), stamp: prop('2024-05-01T00:00:00Z') });
    check(d, {
      'day>2024-04-30': true,
      'day==2024-05-01': true,
      'at>10:00:00Z': true,
      'at<10:00:01Z': true,
      'at==10:00:00.500Z': true,
      'stamp==2024-05-01': false,
    });
  });

  test('reads DateTime typed literals through their @value', () => {
    check(entity({ when: prop({ '@type': 'DateTime', '@value': '2024-05-01T10:00:00Z' }) }), { 'when>2024-05-01T00:00:00Z': true, 'when<2024-05-01T00:00:00Z': false });
  });

  test('does not order booleans', () => {
    check(e, { 't>false': false, 't<=true': false });
  });

  test('compares unquoted URIs with string values', () => {
    check(entity({ link: prop('urn:ngsi-ld:Room:R1') }), { 'link==urn:ngsi-ld:Room:R1': true, 'link=="urn:ngsi-ld:Room:R1"': true, 'link==urn:ngsi-ld:Room:R2': false });
  });
});

describe('evaluateQ: lists, ranges and arrays', () => {
  const e = entity({ temp: prop(22), color: prop('red'), tags: prop(['a', 'b', 3]), empty: prop([]) });

  test('matches ranges inclusively and their negation outside the closed interval', () => {
    check(e, { 'temp==20..25': true, 'temp==22..22': true, 'temp==23..25': false, 'temp!=20..25': false, 'temp!=23..30': true, 'color=="a".."z"': true });
  });

  test('matches a value list when any value matches, != only when all differ', () => {
    check(e, { 'color=="red","blue"': true, 'color=="green","blue"': false, 'color!="green","blue"': true, 'color!="red","blue"': false });
  });

  test('treats == on an array as contains and != as every element differs', () => {
    check(e, {
      'tags=="a"': true,
      'tags==3': true,
      'tags=="3"': false,
      'tags=="c","b"': true,
      'tags==2..4': true,
      'tags!="c"': true,
      'tags!="a"': false,
      'empty!="a"': true,
      'empty=="a"': false,
    });
  });

  test('never applies ordering or regex operators to arrays', () => {
    check(e, { 'tags>"0"': false, 'tags<5': false, 'tags~=a': false, 'tags!~=zzz': false });
  });

  test('applies ListProperty rules to valueList', () => {
    check(entity({ seq: inst('ListProperty', { valueList: [3, 1, 2] }) }), { 'seq==1': true, 'seq!=4': true, 'seq!=1': false, 'seq>0': false, 'seq[0]==3': true, 'seq[1]>0': true });
  });
});

describe('evaluateQ: != needs the element to exist', () => {
  test('a missing attribute, sub-attribute, key or language never matches !=', () => {
    const e = entity({ a: prop({ k: 1 }), name: inst('LanguageProperty', { languageMap: { en: 'Hall' } }) });
    check(e, { 'missing!=1': false, 'a.sub!=1': false, 'a[x]!=1': false, 'name[de]!="x"': false, 'missing!~=x': false });
  });
});

describe('evaluateQ: attribute kinds (§8.2 targets)', () => {
  test('compares Relationship objects, including arrays of objects, with == and != only', () => {
    const e = entity({ locatedIn: rel('urn:ngsi-ld:Room:R1'), owners: rel(['urn:a', 'urn:b']) });
    check(e, {
      'locatedIn==urn:ngsi-ld:Room:R1': true,
      'locatedIn!=urn:ngsi-ld:Room:R1': false,
      'locatedIn!=urn:ngsi-ld:Room:R2': true,
      'locatedIn>"urn"': false,
      'locatedIn~=Room': false,
      'owners==urn:b': true,
      'owners!=urn:c': true,
      'owners!=urn:a': false,
      'locatedIn[x]': false,
    });
  });

  test('compares ListRelationship objectLists and VocabProperty vocab with == and != only', () => {
    const e = entity({
      path: inst('ListRelationship', { objectList: ['urn:a', 'urn:b'] }),
      category: inst('VocabProperty', { vocab: DEFAULT + 'commercial' }),
    });
    check(e, { 'path==urn:b': true, 'path!=urn:c': true, 'path>"a"': false, 'category==commercial': false, 'category!~=x': false });
    assert.equal(evaluateQ(parseQ('category==commercial', terms, { maxLength: 99 }, { expandValues: ['category'] }), e), true);
  });

  test('looks at any language of a LanguageProperty, or only the bracketed one', () => {
    const e = entity({ name: inst('LanguageProperty', { languageMap: { en: 'Hall', fr: 'Salle', de: ['Saal', 'Halle'] } }) });
    check(e, {
      'name=="Salle"': true,
      'name[fr]=="Salle"': true,
      'name[en]=="Salle"': false,
      'name[EN]=="Hall"': true,
      'name[*]=="Halle"': true,
      'name[*]!="red"': true,
      'name!="Hall"': false,
      'name[en]!="Salle"': true,
      'name~="^Sa"': true,
      'name[en]~="^Sa"': false,
      'name!~="^Sa"': false,
      'name[en]!~="^Sa"': true,
      'name>"Sz"': false,
      'name>"S"': true,
      'name[fr]': true,
      'name[it]': false,
      'name[en.x]': false,
    });
  });

  test('walks JSON values with [a.b] using own members and array indexes only', () => {
    const e = entity({
      address: prop({ city: 'Lyon', zip: '69001', parts: ['x', { deep: 2 }] }),
      reading: prop(1, { attrs: sub({ rawdata: prop({ pm: { pm25: 40 } }) }) }),
      raw: inst('JsonProperty', { json: { 'id': 'x', 'a.b': 1, 'nested': { v: 7 } } }),
    });
    check(e, {
      'address[city]=="Lyon"': true,
      'address[city]=="Paris"': false,
      'address[zip]==69001': false,
      'address[parts.1.deep]==2': true,
      'address[parts.length]': false,
      'address[constructor]': false,
      'address[__proto__]': false,
      'address[city.length]': false,
      'reading.rawdata[pm.pm25]>35': true,
      'raw[id]=="x"': true,
      'raw[nested.v]>=7': true,
      'raw[missing]!=1': false,
    });
  });

  test('follows dotted paths through sub-attributes of any instance', () => {
    const e = entity({ temperature: prop(21, { attrs: sub({ accuracy: prop(0.5, { attrs: sub({ unit: prop('K') }) }) }) }) });
    check(e, { 'temperature.accuracy<1': true, 'temperature.accuracy.unit=="K"': true, 'temperature.precision': false, '!temperature.precision': true });
  });

  test('compares metadata members (observedAt, unitCode, datasetId, createdAt, modifiedAt)', () => {
    const e = entity({ temperature: prop(21, { observedAt: '2024-05-01T10:00:00.5Z', unitCode: 'CEL', datasetId: 'urn:ds:1' }) });
    check(e, {
      'temperature.observedAt>2024-05-01T10:00:00Z': true,
      'temperature.observedAt<2024-05-01T10:00:00Z': false,
      'temperature.unitCode=="CEL"': true,
      'temperature.unitCode==CEL': true,
      'temperature.datasetId==urn:ds:1': true,
      'temperature.createdAt==2024-01-01T00:00:00Z': true,
      'temperature.modifiedAt>=2024-01-01T00:00:00Z': true,
      'temperature.expiresAt': false,
    });
    check(entity({ temperature: prop(21) }), { 'temperature.observedAt': false, 'temperature.observedAt!=2024-01-01T00:00:00Z': false });
  });

  test('applies all operators to GeoProperty and JsonProperty values only as JSON', () => {
    const e = entity({ location: inst('GeoProperty', { value: { type: 'Point', coordinates: [8, 40] } }) });
    check(e, { 'location[type]=="Point"': true, 'location[coordinates.0]==8': true, 'location=="Point"': false, location: true });
  });
});

describe('evaluateQ: multi-instance attributes', () => {
  const e = entity({ temp: [prop(10, { datasetId: 'urn:ds:a' }), prop(30, { datasetId: 'urn:ds:b' })] });

  test('matches when any instance matches', () => {
    check(e, { 'temp>25': true, 'temp<15': true, 'temp==20': false, 'temp.datasetId==urn:ds:b': true });
  });

  test('matches != when any instance differs', () => {
    check(e, { 'temp!=10': true, 'temp!=10,30': false });
  });
});

describe('evaluateQ: regular expressions', () => {
  const e = entity({ name: prop('Sensor-42'), n: prop(42), long: prop(`${'a'.repeat(50_000)}!`) });

  test('matches strings anywhere unless anchored, and never non-strings', () => {
    check(e, {
      'name~="^Sensor-\\d+$"': true,
      'name~=or-4': true,
      'name~=^or': false,
      'name!~=^or': true,
      'name!~=Sensor': false,
      'n~=4': false,
      'n!~=x': false,
      'name~="(?i)^sensor"': true,
    });
  });

  test('answers a catastrophic pattern on a long input (linear-time engine)', () => {
    check(e, { 'long~="^(a+)+$"': false, 'long!~="^(a+)+$"': true, 'long~="^(a|aa)+!$"': true });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property test: algebraic laws of the evaluator on random entities (fixed seeds; failures name the seed).

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('evaluateQ: laws on random entities', () => {
  const VALUES: JsonValue[] = [1, 2.5, -3, '1', 'red', 'blue', true, false, '2024-05-01T10:00:00Z', '2024-05-01', '10:00:00Z', ['red', 1], [], { city: 'red' }];
  const TEXTS = ['1', '2.5', '"1"', '"red"', 'blue', 'true', '2024-05-01T10:00:00.000Z', '2024-05-01', '10:00:00Z', 'urn:a'];
  const PATHS = ['a', 'a[city]', 'a[en]', 'a.observedAt', 'a.sub'];

  function randomInstance(rand: () => number): AttrInstance {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const extra: Extra = rand() < 0.3 ? { observedAt: pick(['2024-05-01T10:00:00Z', '2020-01-01T00:00:00Z']) } : {};
    if (rand() < 0.2) extra.attrs = sub({ sub: prop(pick(VALUES)) });
    switch (pick(['Property', 'Relationship', 'LanguageProperty', 'ListProperty', 'VocabProperty'] as const)) {
      case 'Property':
        return prop(pick(VALUES), extra);
      case 'Relationship':
        return rel(pick(['urn:a', 'blue', ['urn:a', 'red']] as (string | string[])[]), extra);
      case 'LanguageProperty':
        return inst('LanguageProperty', { languageMap: pick<Record<string, string | string[]>>([{ en: 'red' }, { en: 'blue', fr: ['red', '1'] }]), ...extra });
      case 'ListProperty':
        return inst('ListProperty', { valueList: pick([[1, 'red'], ['blue']]), ...extra });
      case 'VocabProperty':
        return inst('VocabProperty', { vocab: pick<string | string[]>(['urn:a', ['blue', 'red']]), ...extra });
    }
  }

  test('!= implies existence, == and != split every single-instance target, !p negates p, lists are ORs (500 seeds)', () => {
    const ev = (text: string, e: Entity): boolean => evaluateQ(parseQ(text, terms, { maxLength: 1000 }), e);
    for (let seed = 1; seed <= 500; seed++) {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const count = Math.floor(rand() * 3);
      const e = entity(count === 0 ? {} : { a: Array.from({ length: count }, () => randomInstance(rand)) });
      const path = pick(PATHS);
      const v1 = pick(TEXTS);
      const v2 = pick(TEXTS);
      const where = `seed ${seed}: path ${path}, values ${v1} ${v2}, entity ${JSON.stringify(e.attrs)}`;
      const exists = ev(path, e);
      const eq = ev(`${path}==${v1}`, e);
      const ne = ev(`${path}!=${v1}`, e);
      assert.equal(ev(`!${path}`, e), !exists, where);
      if (ne) assert.ok(exists, `!= without existence; ${where}`);
      if (eq) assert.ok(exists, `== without existence; ${where}`);
      if (count === 1 && exists) assert.notEqual(eq, ne, `== and != must split; ${where}`);
      assert.equal(ev(`${path}==${v1},${v2}`, e), ev(`${path}==${v1}|${path}==${v2}`, e), `list is an OR; ${where}`);
      if (count === 1) assert.equal(ev(`${path}!=${v1},${v2}`, e), ev(`${path}!=${v1};${path}!=${v2}`, e), `negated list is an AND; ${where}`);
    }
  });
});
