// Schema version 4 of the PostgreSQL store: the temporal history (GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4,
// §4.5.19; issue 6) — the entity-level record of each entity's history and the append-only instance log.
//
// temporal_entities: one row per (tenant, id) ever recorded; outlives the entity (no foreign key to
//   entities: deleting an entity keeps its history). `seq` (identity, kept on upsert) is the stable listing
//   order of temporal queries and the key the instances refer to. `id` is textKey(id); `types` and `scope`
//   are jsonb arrays of textKeys (jsonb then accepts every string; a type test is `types ? key`). The
//   record times are the port's strings, kept as text so they round-trip exactly (nothing compares them).
//   Its tenant references `tenants` (ON DELETE CASCADE, ADR 0002): one check per recorded entity write.
// temporal_instances: one row per recorded instance.
// - `entity` is the record's seq, not its id: 8 bytes instead of a URN repeated in the heap and in every
//   index entry of what is the largest table of a deployment; an entity dropped and recorded again gets a
//   new seq, so no stale row can ever attach to the new record.
// - Times are bigint epoch milliseconds (core instanceTime), not timestamptz: the port speaks epoch ms,
//   bucketing is integer arithmetic on the column ((t − origin) / period, no extract(epoch) per row),
//   instants compare whatever the fraction digits of the text, sub-millisecond digits are cut exactly as the
//   SQLite store cuts them (both stores agree on every boundary), and no session time zone is involved.
// - num / text / key are core instanceValues(): what SQL aggregates. `text` holds codePointKey(text), so
//   that "C" order is code-point order for min/max (as reference-aggregate.ts compares) and every string is
//   storable; `key` (equality only) holds textKey(key).
// - `doc` is the instance as recorded, `json` not `jsonb` for the reasons given in migrations.ts (exact
//   text, \u0000 escapes).
// - No foreign key from instances to records: a check per appended instance would slow every write; the
//   store deletes instances with their record (temporal-write.ts) in the same statement.
// - `counted` (generated: key IS NOT NULL) tells the instances aggregations count (deletions have no
//   value), so that the covering index below answers numeric aggregations alone.
// Indexes lead with (tenant, entity, attr) then a time and seq, so a window is one index range in the
// order queries want (ties by recording order), and a LIMIT stops early (cap, lastN):
// - observed_at, the default time property and the hot path, over every instance (NULLs sort last): its
//   (tenant, entity, attr) prefix also serves createdAt and modifiedAt windows (filtered and sorted; a
//   further index would cost every write for rarely asked properties), drops, lookups and the
//   distinct-attribute skip scan. It INCLUDEs num and counted: avg/min/max/sum/… over a numeric series are
//   an index-only scan (temporal-aggregate.ts), about half the time of reading the heap, whose rows carry
//   the documents;
// - deleted_at: partial, holds only deletion instances;
// - (tenant, instance_id) unique: correction and deletion of one instance (§5.6.15–5.6.16);
// - created_at BRIN: the retention job (pruneHistory) deletes across tenants by recording time, which
//   follows insertion order; a BRIN index costs writes next to nothing.
// Index-only scans need the visibility map, which VACUUM sets: the table is append-mostly, so autovacuum
// is asked to come after 10,000 + 1 % new rows instead of the default 1,000 + 20 % (on a large table, the
// recent instances most queries ask for would otherwise stay invisible to the map for millions of rows);
// after bulk loads the store vacuums it itself (history-vacuum.ts).
export const TEMPORAL_DDL = `
  CREATE TABLE temporal_entities (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id text COLLATE "C" NOT NULL,
    types jsonb NOT NULL,
    scope jsonb,
    created_at text NOT NULL,
    modified_at text NOT NULL,
    deleted_at text,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT temporal_entities_pkey PRIMARY KEY (tenant, id)
  );

  CREATE UNIQUE INDEX temporal_entities_tenant_seq ON temporal_entities (tenant, seq);
  CREATE INDEX temporal_entities_types ON temporal_entities USING gin (types);

  CREATE TABLE temporal_instances (
    tenant text COLLATE "C" NOT NULL,
    entity bigint NOT NULL,
    attr text COLLATE "C" NOT NULL,
    dataset_id text COLLATE "C",
    instance_id text COLLATE "C" NOT NULL,
    observed_at bigint,
    created_at bigint,
    modified_at bigint,
    deleted_at bigint,
    num double precision,
    text text COLLATE "C",
    key text COLLATE "C",
    doc json NOT NULL,
    counted boolean GENERATED ALWAYS AS (key IS NOT NULL) STORED,
    seq bigint GENERATED ALWAYS AS IDENTITY
  ) WITH (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0.01);

  CREATE INDEX temporal_instances_observed ON temporal_instances (tenant, entity, attr, observed_at, seq)
    INCLUDE (num, counted);
  CREATE INDEX temporal_instances_deleted ON temporal_instances (tenant, entity, attr, deleted_at, seq)
    WHERE deleted_at IS NOT NULL;
  CREATE UNIQUE INDEX temporal_instances_instance ON temporal_instances (tenant, instance_id);
  CREATE INDEX temporal_instances_created ON temporal_instances USING brin (created_at);
`;

// Schema version 8 adds, beside the rollups (temporal-rollup.ts), the modifiedAt index the SQLite store has had
// since its v4: the temporal service probes each attribute's latest instance by modifiedAt (the `type` of
// aggregated attributes, existence checks), and without it PostgreSQL sorted every instance of the series,
// reading the heap — ≈ 220 ms of server CPU per aggregation request over 100,000 instances, far more than
// the aggregation itself. One more index entry per recorded instance.
export const TEMPORAL_MODIFIED_INDEX_DDL = `
  CREATE INDEX temporal_instances_modified ON temporal_instances (tenant, entity, attr, modified_at, seq);
`;
