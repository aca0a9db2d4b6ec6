// GeoJSON geometry types used by geo-queries (GS CIM 009 §4.7, §4.10; RFC 7946 §3.1): the six geometry
// kinds NGSI-LD allows, positions as [longitude, latitude(, altitude)]. Structurally GeoJSON, so turf takes them.
export type Position = number[];

export interface PointGeometry {
  type: 'Point';
  coordinates: Position;
}
export interface MultiPointGeometry {
  type: 'MultiPoint';
  coordinates: Position[];
}
export interface LineStringGeometry {
  type: 'LineString';
  coordinates: Position[];
}
export interface MultiLineStringGeometry {
  type: 'MultiLineString';
  coordinates: Position[][];
}
export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPolygonGeometry {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}

export type GeoGeometry =
  | PointGeometry
  | MultiPointGeometry
  | LineStringGeometry
  | MultiLineStringGeometry
  | PolygonGeometry
  | MultiPolygonGeometry;

/** A single-part geometry, the unit the predicates work on. */
export type GeoPart = PointGeometry | LineStringGeometry | PolygonGeometry;
