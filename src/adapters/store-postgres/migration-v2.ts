// Schema version 2 of the PostgreSQL store: the query side (GS CIM 009 §4.9 q, §4.10 geo, §4.19 scopeQ,
// §5.7.2 query, §5.7.5–5.7.10 discovery) — search document, attribute-value index, geometry table, the SQL
// helper functions the query compiler calls, and the backfill of rows written by version 1.
import type { PoolClient } from 'pg';
import type { Entity } from '../../core/model/entity.ts';
import { deriveEntity } from './derive.ts';
import { sideRowParams, sql } from './statements.ts';
import { textKey } from './text-key.ts';

/**
 * - entities.qdoc: the search document (derive.ts), jsonb; strings as textKeys so jsonb accepts every
 *   document (no \u0000) and "C" order is UTF-16 order. entities.id (and entity_types.id) hold textKey(id),
 *   rewritten here for the rare v1 ids it changes (U+0001, characters from U+D800 up).
 * - entities_types: GIN on the types array, for the type selection (`types ? name`).
 * - entity_attrs: one row per comparable item of a top-level attribute's instances (derive.ts); exact
 *   index answers for `attr op literal` with numbers, strings and DateTimes; rows per instance for
 *   discovery and `attrs`. Long strings are indexed by a 200-character prefix (btree rows are bounded),
 *   the full text stays in the row for the exact comparison.
 * - entity_geo: one row per valid GeoProperty geometry, planar (geometry, SRID 4326) with a GiST index, and
 *   its geography (stored: a cast per row costs more than the distance test) with a GiST index for `near`
 *   in metres. `valid` (ST_IsValid) guards GEOS predicates, which raise on invalid polygons.
 * - Side rows are keyed by the entity's seq (never reused) and written and removed in the same statement
 *   as the entity row; no foreign key, so a TRUNCATE of entities alone leaves only unreachable rows.
 * - kend_* functions: JSON value semantics of q-compare.ts (typed literals, DateTime, Date, Time), and the
 *   member walk of `[a.b]` paths (q-eval.ts `member`). IMMUTABLE, no exceptions on any input.
 */
export const V2_SQL = `
  ALTER TABLE entities ADD COLUMN qdoc jsonb;
  CREATE INDEX entities_types ON entities USING gin (types);

  -- Documents are a few KB, so PostgreSQL compresses them; lz4 costs a fraction of the default pglz on
  -- every write. A server built without lz4 keeps pglz.
  DO $$ BEGIN
    ALTER TABLE entities ALTER COLUMN doc SET COMPRESSION lz4, ALTER COLUMN qdoc SET COMPRESSION lz4;
  EXCEPTION WHEN feature_not_supported THEN NULL;
  END $$;

  CREATE TABLE entity_attrs (
    tenant text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    attr text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    head boolean NOT NULL,
    src "char" NOT NULL,
    num double precision,
    str text COLLATE "C",
    dtk bigint
  );
  CREATE INDEX entity_attrs_seq ON entity_attrs (seq, attr);
  CREATE INDEX entity_attrs_num ON entity_attrs (tenant, attr, num) INCLUDE (src, seq);
  CREATE INDEX entity_attrs_str ON entity_attrs (tenant, attr, left(str, 200)) INCLUDE (src, seq) WHERE str IS NOT NULL;
  CREATE INDEX entity_attrs_dtk ON entity_attrs (tenant, attr, dtk) INCLUDE (src, seq) WHERE dtk IS NOT NULL;

  CREATE TABLE entity_geo (
    tenant text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    attr text COLLATE "C" NOT NULL,
    instance_key integer NOT NULL,
    valid boolean NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    geog geography(Geometry, 4326) NOT NULL
  );
  CREATE INDEX entity_geo_seq ON entity_geo (seq);
  CREATE INDEX entity_geo_geom ON entity_geo USING gist (geom);
  CREATE INDEX entity_geo_geog ON entity_geo USING gist (geog);

  -- A JSON-LD typed literal {"@type": T, "@value": v} stands for v (q-compare.ts unwrapTypedLiteral).
  CREATE FUNCTION kend_unwrap(x jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN jsonb_typeof(x) IS DISTINCT FROM 'object' THEN x
      WHEN x ? '@type' AND x ? '@value' AND (x - '@type' - '@value') = '{}'::jsonb
        AND jsonb_typeof(x -> '@type') = 'string' AND jsonb_typeof(x -> '@value') IN ('string', 'number', 'boolean')
        THEN x -> '@value'
      ELSE x END
  $$;

  -- A JSON number (after unwrapping) as float8, else NULL.
  CREATE FUNCTION kend_num(x jsonb) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(kend_unwrap(x)) = 'number' THEN kend_unwrap(x)::double precision END
  $$;

  -- A JSON string (after unwrapping) as its text (a textKey), else NULL.
  CREATE FUNCTION kend_str(x jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(kend_unwrap(x)) = 'string' THEN kend_unwrap(x) #>> '{}' END
  $$;

  -- A JSON string (no unwrapping) as its text, else NULL.
  CREATE FUNCTION kend_text(x jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(x) = 'string' THEN x #>> '{}' END
  $$;

  -- datetime.ts parseDateTime + compareDateTime: microseconds since the epoch, NULL when not a DateTime.
  -- Years 0000–9999: shifted by 400 years (146097 days, the Gregorian cycle) to stay in make_date's range.
  -- PL/pgSQL, not SQL: a non-inlinable SQL function is planned again in every query, PL/pgSQL once per session.
  CREATE FUNCTION kend_datetime_key(s text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE m text[]; d date;
    BEGIN
      m := regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]{1,6}))?Z$');
      IF m IS NULL OR m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int < 1 OR m[4]::int > 23 OR m[5]::int > 59 OR m[6]::int > 59 THEN
        RETURN NULL;
      END IF;
      d := make_date(m[1]::int + 400, m[2]::int, 1) + (m[3]::int - 1);
      IF extract(month FROM d) <> m[2]::int THEN RETURN NULL; END IF;
      RETURN (d - date '1970-01-01' - 146097)::bigint * 86400000000
        + (m[4]::bigint * 3600 + m[5]::bigint * 60 + m[6]::bigint) * 1000000 + coalesce(rpad(m[7], 6, '0')::bigint, 0);
    END
  $$;

  -- datetime.ts parseDate: the text when it is a valid YYYY-MM-DD, else NULL.
  CREATE FUNCTION kend_date_text(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE m text[];
    BEGIN
      m := regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})$');
      IF m IS NULL OR m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int < 1 THEN RETURN NULL; END IF;
      IF extract(month FROM make_date(m[1]::int + 400, m[2]::int, 1) + (m[3]::int - 1)) <> m[2]::int THEN RETURN NULL; END IF;
      RETURN s;
    END
  $$;

  -- datetime.ts parseTime + q-compare.ts timeMicros: microseconds since midnight, NULL when not a Time.
  CREATE FUNCTION kend_time_key(s text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE m text[];
    BEGIN
      m := regexp_match(s, '^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]{1,6}))?Z$');
      IF m IS NULL OR m[1]::int > 23 OR m[2]::int > 59 OR m[3]::int > 59 THEN RETURN NULL; END IF;
      RETURN (m[1]::bigint * 3600 + m[2]::bigint * 60 + m[3]::bigint) * 1000000 + coalesce(rpad(m[4], 6, '0')::bigint, 0);
    END
  $$;

  -- q-eval.ts member(): an object's own member, or an array element by canonical index; else NULL.
  CREATE FUNCTION kend_walk(x jsonb, keys text[]) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE k text;
    BEGIN
      FOREACH k IN ARRAY keys LOOP
        IF x IS NULL THEN RETURN NULL; END IF;
        IF jsonb_typeof(x) = 'object' THEN x := x -> k;
        ELSIF jsonb_typeof(x) = 'array' AND k ~ '^(0|[1-9][0-9]{0,8})$' THEN x := x -> k::int;
        ELSE RETURN NULL;
        END IF;
      END LOOP;
      RETURN x;
    END
  $$;
`;

/**
 * Run after the backfill: every row has its search document from now on. The default (an empty search
 * document) only serves rows written by hand, outside the store; the store always writes qdoc.
 */
export const V2_FINAL_SQL = `ALTER TABLE entities ALTER COLUMN qdoc SET DEFAULT '{}'::jsonb, ALTER COLUMN qdoc SET NOT NULL`;

const BACKFILL_CHUNK = 500;

/** Derives the search document and side rows of every entity written by schema version 1, in seq order. */
export async function backfillV2(client: PoolClient): Promise<void> {
  let last = '0';
  for (;;) {
    const { rows } = await client.query<{ seq: string; tenant: string; doc: string }>(
      'SELECT seq::text AS seq, tenant, doc::text AS doc FROM entities WHERE seq > $1::bigint ORDER BY seq LIMIT $2',
      [last, BACKFILL_CHUNK],
    );
    for (const row of rows) {
      const entity = JSON.parse(row.doc) as Entity;
      const d = deriveEntity(entity);
      await client.query(sql.backfillEntity([row.seq, d.qdoc, textKey(entity.id), ...sideRowParams(d, false)]));
      last = row.seq;
    }
    if (rows.length < BACKFILL_CHUNK) return;
  }
}
