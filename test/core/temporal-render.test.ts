// Tests for temporal representations (GS CIM 009 §4.5.7, §4.5.8, §4.5.19; guide §15.4): normalized with
// instanceId, temporalValues per kind, aggregatedValues with decimals, instants without padded fractions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import { formatInstant } from '../../src/core/temporal/instant.ts';
import { decimalText, renderAggregatedEntity, stringifyAggregated } from '../../src/core/temporal/render-aggregates.ts';
import { renderTemporalEntity } from '../../src/core/temporal/render-temporal.ts';
import type { RecordedInstance, TemporalEntity } from '../../src/core/temporal/model.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const terms: TermMap = { expandTerm: (n) => DC + n, compactIri: (i) => (i.startsWith(DC) ? i.slice(DC.length) : i) };
const C = '2026-01-01T00:00:00Z';
const entity: TemporalEntity = { id: 'urn:ngsi-ld:M:1', types: [DC + 'Meter'], createdAt: C, modifiedAt: C };
const inst = (i: Partial<RecordedInstance> & Pick<RecordedInstance, 'type'>, n: number): RecordedInstance => ({ createdAt: C, modifiedAt: C, instanceId: `urn:ngsi-ld:i${n}`, ...i });

describe('renderTemporalEntity', () => {
  test('normalized: every attribute an array of instances with instanceId; deletedAt on deletions; sysAttrs adds timestamps', () => {
    const attrs = {
      [DC + 'v']: [inst({ type: 'Property', value: 1, observedAt: C }, 1), inst({ type: 'Property', value: 'urn:ngsi-ld:null', deletedAt: C }, 2)],
      [DC + 'empty']: [],
    };
    assert.deepEqual(renderTemporalEntity(entity, attrs, terms, { format: 'normalized', sysAttrs: false, timeProperty: 'observedAt' }), {
      id: 'urn:ngsi-ld:M:1',
      type: 'Meter',
      v: [
        { type: 'Property', value: 1, observedAt: C, instanceId: 'urn:ngsi-ld:i1' },
        { type: 'Property', value: 'urn:ngsi-ld:null', instanceId: 'urn:ngsi-ld:i2', deletedAt: C },
      ],
      empty: [],
    });
    const sys = renderTemporalEntity(entity, attrs, terms, { format: 'normalized', sysAttrs: true, timeProperty: 'observedAt' })!;
    assert.equal(sys.createdAt, C);
    assert.equal((sys.v as { createdAt: string }[])[0]!.createdAt, C);
  });

  test('temporalValues: pairs per datasetId, the time from the time property', () => {
    const attrs = {
      [DC + 'v']: [inst({ type: 'Property', value: 1, observedAt: C }, 1), inst({ type: 'Property', value: 2, observedAt: '2026-01-01T01:00:00Z', datasetId: 'urn:ds:b' }, 2)],
      [DC + 'r']: [inst({ type: 'Relationship', object: 'urn:x:1', observedAt: C }, 3)],
    };
    const out = renderTemporalEntity(entity, attrs, terms, { format: 'temporalValues', sysAttrs: false, timeProperty: 'observedAt' })!;
    assert.deepEqual(out.v, [
      { type: 'Property', values: [[1, C]] },
      { type: 'Property', values: [[2, '2026-01-01T01:00:00Z']], datasetId: 'urn:ds:b' },
    ]);
    assert.deepEqual(out.r, { type: 'Relationship', objects: [['urn:x:1', C]] });
  });
});

describe('aggregatedValues', () => {
  test('triples [result, start, end] per method, with the attribute kind as type', () => {
    const out = renderAggregatedEntity(
      { entity, attrs: { [DC + 'v']: { avg: [{ value: 2, startMs: Date.parse(C), endMs: Date.parse(C) + 3_600_000 }], totalCount: [{ value: 3, startMs: Date.parse(C), endMs: Date.parse(C) + 3_600_000 }] } } },
      terms,
      { sysAttrs: false, kinds: { [DC + 'v']: 'Property' } },
    )!;
    assert.deepEqual(out.v, { type: 'Property', totalCount: [[3, C, '2026-01-01T01:00:00Z']], avg: [[2, C, '2026-01-01T01:00:00Z']] });
  });

  test('the JSON text writes avg/min/max/sum/stddev/sumsq as decimals and counts as integers', () => {
    const body = [{ id: 'urn:x', type: 'T', avg: { type: 'Property', avg: [[100, 'a', 'b'], [2.5, 'b', 'c'], [null, 'c', 'd']], totalCount: [[4, 'a', 'b']], max: [['zeta', 'a', 'b']] } }];
    assert.equal(
      stringifyAggregated(body),
      '[{"id":"urn:x","type":"T","avg":{"type":"Property","avg":[[100.0,"a","b"],[2.5,"b","c"],[null,"c","d"]],"totalCount":[[4,"a","b"]],"max":[["zeta","a","b"]]}}]',
    );
    assert.deepEqual(JSON.parse(stringifyAggregated(body)), body);
    assert.equal(decimalText(-3), '-3.0');
    assert.equal(decimalText(1e21), '1e+21');
    assert.equal(decimalText(Number.NaN), 'null');
  });

  test('a rendered answer prints the same text as its triples printed afresh (methods with other buckets too)', () => {
    const h = 3_600_000;
    const t0 = Date.parse(C);
    const hourly = (values: (number | string | null)[]) => values.map((value, i) => ({ value, startMs: t0 + i * h, endMs: t0 + (i + 1) * h }));
    const out = renderAggregatedEntity(
      {
        entity,
        attrs: {
          [DC + 'v']: {
            avg: hourly([1, 2.5, null, 1e21, -0.1]),
            min: hourly(['é"\\', 3, 4, 5, 6]),
            totalCount: hourly([1, 2, 3, 4, 5]),
            max: [{ value: 9, startMs: t0 - 1, endMs: t0 + 1 }],
          },
        },
      },
      terms,
      { sysAttrs: true },
    )!;
    const text = stringifyAggregated([out]);
    assert.equal(text, stringifyAggregated(structuredClone([out])));
    assert.deepEqual(JSON.parse(text), [out]);
    assert.match(text, /"avg":\[\[1\.0,"2026-01-01T00:00:00Z","2026-01-01T01:00:00Z"\]/);
    assert.match(text, /"max":\[\[9\.0,"2025-12-31T23:59:59\.999Z","2026-01-01T00:00:00\.001Z"\]\]/);
  });

  test('instants are printed without a padded zero fraction', () => {
    assert.equal(formatInstant(Date.parse('2026-01-01T10:00:00Z')), '2026-01-01T10:00:00Z');
    assert.equal(formatInstant(Date.parse('2026-01-01T10:00:00.120Z')), '2026-01-01T10:00:00.120Z');
  });

  test('instants match Date.toISOString (fraction trimmed) across days, before 1970 and beyond four-digit years', () => {
    const reference = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
    const times = [0, -1, 1, 86_399_999, -86_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000];
    for (let k = 0; k < 2000; k++) times.push(Math.round(Math.sin(k) * 2.6e14), Date.UTC(2024, 1, 28) + k * 3_599_999);
    for (const ms of times) assert.equal(formatInstant(ms), reference(ms), String(ms));
  });
});
