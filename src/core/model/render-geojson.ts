// GeoJSON representation of entities (GS CIM 009 §4.5.16 Feature, §4.5.17 FeatureCollection, §6.3.15).
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { Entity } from './entity.ts';
import type { RenderOptions } from './render-entity.ts';
import { renderEntity } from './render-entity.ts';

/**
 * Renders `entity` as a GeoJSON Feature: `{"id", "type": "Feature", "geometry", "properties"}`. `properties`
 * holds the entity rendered in `opts.format` (entity type(s) as `type`, attributes, entity sysAttrs) without
 * `id`; the geometry attribute stays in it too. `geometry` is the value of the default instance of the
 * attribute `geometryPropertyFqn` when that instance is a GeoProperty, else null; it is taken from the stored
 * entity, independently of projection and datasetId filter. `id` follows the projection like in the other
 * formats (`omit=id` drops it). Returns null when the projection leaves no member, as `renderEntity` does.
 * The caller adds `@context`.
 */
export function renderFeature(
  entity: Entity,
  terms: TermMap,
  opts: RenderOptions,
  geometryPropertyFqn: string,
): JsonObject | null {
  const rendered = renderEntity(entity, terms, opts);
  if (rendered === null) return null;
  const feature: JsonObject = {};
  if (rendered.id !== undefined) feature.id = rendered.id;
  feature.type = 'Feature';
  feature.geometry = geometryOf(entity, geometryPropertyFqn);
  const properties: JsonObject = {};
  for (const [key, value] of Object.entries(rendered)) {
    if (key !== 'id') properties[key] = value;
  }
  feature.properties = properties;
  return feature;
}

/** Wraps features (already rendered, without @context) in a FeatureCollection; empty when nothing matched. */
export function renderFeatureCollection(features: JsonObject[]): JsonObject {
  return { type: 'FeatureCollection', features };
}

function geometryOf(entity: Entity, fqn: string): JsonValue {
  const instance = entity.attrs[fqn]?.find((inst) => inst.datasetId === undefined || inst.datasetId === '@none');
  if (!instance || instance.type !== 'GeoProperty' || instance.value === undefined) return null;
  return instance.value;
}
