// Tests for the GeoJSON Feature / FeatureCollection representation (GS CIM 009 §4.5.16, §4.5.17).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import { parseProjection } from '../../src/core/model/projection.ts';
import type { RenderOptions } from '../../src/core/model/render-entity.ts';
import { renderFeature, renderFeatureCollection } from '../../src/core/model/render-geojson.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const terms: TermMap = {
  expandTerm: (n) => (n === 'location' ? LOCATION : n.includes(':') ? n : DC + n),
  compactIri: (iri) => (iri === LOCATION ? 'location' : iri.startsWith(DC) ? iri.slice(DC.length) : iri),
};

const T = '2024-01-01T00:00:00Z';
const P1 = { type: 'Point', coordinates: [2.35, 48.85] };
const P2 = { type: 'Point', coordinates: [4.35, 50.85] };
const inst = (i: Omit<AttrInstance, 'createdAt' | 'modifiedAt'>): AttrInstance => ({ ...i, createdAt: T, modifiedAt: T });

function fixture(): Entity {
  return {
    id: 'urn:ngsi-ld:Bus:1',
    types: [DC + 'Bus', DC + 'Vehicle'],
    createdAt: T,
    modifiedAt: T,
    attrs: {
      [DC + 'speed']: [inst({ type: 'Property', value: 50 })],
      [LOCATION]: [
        inst({ type: 'GeoProperty', value: P2, datasetId: 'urn:ds:gps' }),
        inst({ type: 'GeoProperty', value: P1 }),
      ],
      [DC + 'depot']: [inst({ type: 'GeoProperty', value: P2 })],
      [DC + 'driver']: [inst({ type: 'Relationship', object: 'urn:ngsi-ld:Person:1' })],
    },
  };
}

const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({ format: 'normalized', sysAttrs: false, ...o });

describe('renderFeature', () => {
  test('a Feature has id, type, geometry and properties with the entity type and attributes', () => {
    const f = renderFeature(fixture(), terms, opts(), LOCATION);
    assert.ok(f);
    assert.deepEqual(Object.keys(f), ['id', 'type', 'geometry', 'properties']);
    assert.equal(f.id, 'urn:ngsi-ld:Bus:1');
    assert.equal(f.type, 'Feature');
    const props = f.properties as JsonObject;
    assert.equal(props.id, undefined);
    assert.deepEqual(props.type, ['Bus', 'Vehicle']);
    assert.deepEqual(props.speed, { type: 'Property', value: 50 });
    assert.ok(Array.isArray(props.location), 'the geometry attribute stays in properties');
  });

  test('geometry is the value of the default instance of the geometry property', () => {
    assert.deepEqual(renderFeature(fixture(), terms, opts(), LOCATION)?.geometry, P1);
  });

  test('another GeoProperty can be chosen as geometry', () => {
    assert.deepEqual(renderFeature(fixture(), terms, opts(), DC + 'depot')?.geometry, P2);
  });

  test('geometry is null when the attribute is missing or is not a GeoProperty', () => {
    assert.equal(renderFeature(fixture(), terms, opts(), DC + 'absent')?.geometry, null);
    assert.equal(renderFeature(fixture(), terms, opts(), DC + 'speed')?.geometry, null);
  });

  test('geometry is null when the GeoProperty has only non-default instances', () => {
    const e = fixture();
    e.attrs[LOCATION] = e.attrs[LOCATION].filter((i) => i.datasetId !== undefined);
    assert.equal(renderFeature(e, terms, opts(), LOCATION)?.geometry, null);
  });

  test('simplified properties use the dataset wrapper for multi-instance attributes', () => {
    const props = renderFeature(fixture(), terms, opts({ format: 'keyValues' }), LOCATION)?.properties as JsonObject;
    assert.deepEqual(props, {
      type: ['Bus', 'Vehicle'],
      speed: 50,
      location: { dataset: { 'urn:ds:gps': P2, '@none': P1 } },
      depot: P2,
      driver: 'urn:ngsi-ld:Person:1',
    });
  });

  test('the geometry is taken from the entity even when the projection drops the attribute', () => {
    const f = renderFeature(fixture(), terms, opts({ projection: parseProjection({ pick: 'id,speed' }, terms) }), LOCATION);
    assert.deepEqual(f, { id: 'urn:ngsi-ld:Bus:1', type: 'Feature', geometry: P1, properties: { speed: { type: 'Property', value: 50 } } });
  });

  test('a projection that leaves nothing yields null', () => {
    assert.equal(renderFeature(fixture(), terms, opts({ projection: parseProjection({ pick: 'absent' }, terms) }), LOCATION), null);
  });
});

describe('renderFeatureCollection', () => {
  test('features are wrapped in a FeatureCollection', () => {
    const f = renderFeature(fixture(), terms, opts(), LOCATION);
    assert.ok(f);
    assert.deepEqual(renderFeatureCollection([f]), { type: 'FeatureCollection', features: [f] });
  });

  test('no features gives an empty collection', () => {
    assert.deepEqual(renderFeatureCollection([]), { type: 'FeatureCollection', features: [] });
  });
});
