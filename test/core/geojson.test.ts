import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { coerceGeometry, isGeometryLike, validateGeometry } from '../../src/core/model/geojson.ts';

const MAX = 1000;
const ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];

describe('validateGeometry', () => {
  test('accepts every supported geometry type', () => {
    const ok = [
      { type: 'Point', coordinates: [2.35, 48.85] },
      { type: 'Point', coordinates: [2.35, 48.85, 35] },
      { type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] },
      { type: 'LineString', coordinates: [[1, 2], [3, 4]] },
      { type: 'MultiLineString', coordinates: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] },
      { type: 'Polygon', coordinates: [ring] },
      { type: 'MultiPolygon', coordinates: [[ring], [ring]] },
    ];
    for (const g of ok) assert.equal(validateGeometry(g, MAX), null, g.type);
  });

  test('rejects GeometryCollection', () => {
    const msg = validateGeometry({ type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [1, 2] }] }, MAX);
    assert.match(msg ?? '', /GeometryCollection/);
  });

  test('rejects unknown types, missing coordinates and non-objects', () => {
    assert.notEqual(validateGeometry({ type: 'Circle', coordinates: [1, 2] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'Point' }, MAX), null);
    assert.notEqual(validateGeometry([1, 2], MAX), null);
    assert.notEqual(validateGeometry('Point', MAX), null);
  });

  test('rejects out-of-range longitude and latitude', () => {
    assert.match(validateGeometry({ type: 'Point', coordinates: [181, 0] }, MAX) ?? '', /longitude/);
    assert.match(validateGeometry({ type: 'Point', coordinates: [0, -90.5] }, MAX) ?? '', /latitude/);
  });

  test('rejects positions with the wrong arity or non-finite numbers', () => {
    assert.notEqual(validateGeometry({ type: 'Point', coordinates: [1] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'Point', coordinates: [1, 2, 3, 4] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'Point', coordinates: ['1', 2] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'Point', coordinates: [1, Number.NaN] }, MAX), null);
  });

  test('rejects a LineString with fewer than two positions', () => {
    assert.notEqual(validateGeometry({ type: 'LineString', coordinates: [[1, 2]] }, MAX), null);
  });

  test('rejects polygon rings that are not closed or have fewer than four positions', () => {
    assert.match(validateGeometry({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }, MAX) ?? '', /not closed/);
    assert.notEqual(validateGeometry({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [0, 0]]] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'MultiPolygon', coordinates: [ring] }, MAX), null);
  });

  test('enforces the vertex limit over the whole geometry', () => {
    assert.equal(validateGeometry({ type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] }, 2), null);
    assert.match(validateGeometry({ type: 'MultiPoint', coordinates: [[1, 2], [3, 4], [5, 6]] }, 2) ?? '', /vertices/);
  });

  test('validates bbox when present', () => {
    assert.equal(validateGeometry({ type: 'Point', coordinates: [1, 2], bbox: [1, 2, 1, 2] }, MAX), null);
    assert.notEqual(validateGeometry({ type: 'Point', coordinates: [1, 2], bbox: [1, 2] }, MAX), null);
  });
});

describe('coerceGeometry and isGeometryLike', () => {
  test('parses GeoJSON sent as a string into an object', () => {
    assert.deepEqual(coerceGeometry('{"type":"Point","coordinates":[1,2]}'), { type: 'Point', coordinates: [1, 2] });
  });

  test('leaves other values unchanged', () => {
    assert.equal(coerceGeometry('hello'), 'hello');
    assert.equal(coerceGeometry('{not json'), '{not json');
    assert.equal(coerceGeometry(5), 5);
  });

  test('recognises objects that present themselves as geometries', () => {
    assert.ok(isGeometryLike({ type: 'Point', coordinates: [1, 2] }));
    assert.ok(isGeometryLike({ type: 'GeometryCollection', geometries: [] }));
    assert.ok(!isGeometryLike({ type: 'Point' }));
    assert.ok(!isGeometryLike({ type: 'Property', value: 1 }));
  });
});
