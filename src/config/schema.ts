// The one typed configuration schema: env name, type, default, bounds, secret flag. Read only by load.ts.
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface KendConfig {
  port: number;
  host: string;
  databaseUrl: string;
  databasePoolSize: number;
  logLevel: LogLevel;
  /** Public base URL used in served @context URLs; defaults to http://host:port. */
  publicUrl: string;
  coreContextUrl: string;
  maxBodyBytes: number;
  contextFetchTimeoutMs: number;
  contextMaxBytes: number;
  contextCacheTtlSeconds: number;
  contextMaxDepth: number;
  maxQueryLength: number;
  maxIdPatternLength: number;
  maxGeometryVertices: number;
  defaultPageSize: number;
  maxPageSize: number;
  maxBatchSize: number;
  notifyAllow: string;
  notifyDeny: string;
  notifyTimeoutMs: number;
  notifyMaxAttempts: number;
  notifyRetryBaseMs: number;
  notifyRetryMaxMs: number;
  notifyEndpointConcurrency: number;
  notifyLeaseMs: number;
  notifyPollMs: number;
  subscriptionMaxFailures: number;
  historyEnabled: boolean;
  /** ISO 8601 duration; '' = keep history forever. */
  historyRetention: string;
  historyPruneIntervalMs: number;
  temporalInstanceLimit: number;
  /** Timeout of one request forwarded to a context source, unless its registration sets management.timeout. */
  forwardTimeoutMs: number;
  /** Largest answer accepted from a context source; larger → the source's data is dropped (NGSILD-Warning 111). */
  forwardMaxBytes: number;
  /** This broker's name in `Via` headers of forwarded requests (loop prevention); '' = a random one per process. */
  brokerId: string;
  /** ISO 8601 duration: lifetime of an EntityMap whose request names none. */
  entityMapLifetime: string;
  /** ISO 8601 duration: the longest lifetime an EntityMap gets (requests and PATCHes asking more are cut to it). */
  entityMapMaxLifetime: string;
  entityMapMaxEntries: number;
  entityMapSweepIntervalMs: number;
}

type Kind = 'int' | 'string' | 'url' | 'enum' | 'bool' | 'duration';

export interface ConfigField {
  key: keyof KendConfig;
  env: string;
  kind: Kind;
  default: string | number | boolean | ((partial: Partial<KendConfig>) => string);
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  secret?: boolean;
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const CONFIG_FIELDS: readonly ConfigField[] = [
  { key: 'port', env: 'KEND_PORT', kind: 'int', default: 1026, min: 0, max: 65535, description: 'HTTP port of the NGSI-LD API (0 = any free port)' },
  { key: 'host', env: 'KEND_HOST', kind: 'string', default: '127.0.0.1', description: 'Address the HTTP server binds to' },
  { key: 'databaseUrl', env: 'KEND_DATABASE_URL', kind: 'string', default: 'sqlite:./data/kend.db', description: 'Store: `sqlite:<path>`, `sqlite::memory:` or `postgres://user:password@host:5432/db`', secret: true },
  { key: 'databasePoolSize', env: 'KEND_DATABASE_POOL_SIZE', kind: 'int', default: 10, min: 1, max: 1000, description: 'PostgreSQL connection pool size' },
  { key: 'logLevel', env: 'KEND_LOG_LEVEL', kind: 'enum', default: 'info', values: LOG_LEVELS, description: 'pino log level' },
  { key: 'publicUrl', env: 'KEND_PUBLIC_URL', kind: 'url', default: (c) => `http://${c.host ?? '127.0.0.1'}:${c.port ?? 1026}`, description: 'Base URL clients reach Kend at; used in served @context URLs' },
  { key: 'coreContextUrl', env: 'KEND_CORE_CONTEXT', kind: 'url', default: 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld', description: 'Core @context URL named in responses (always served from the bundled copy)' },
  { key: 'maxBodyBytes', env: 'KEND_MAX_BODY_BYTES', kind: 'int', default: 1_048_576, min: 1024, max: 1_073_741_824, description: 'Largest request body; larger → 413' },
  { key: 'contextFetchTimeoutMs', env: 'KEND_CONTEXT_FETCH_TIMEOUT_MS', kind: 'int', default: 5000, min: 1, max: 120_000, description: 'Timeout for downloading a remote @context; exceeded → 504 LdContextNotAvailable' },
  { key: 'contextMaxBytes', env: 'KEND_CONTEXT_MAX_BYTES', kind: 'int', default: 1_048_576, min: 1024, max: 67_108_864, description: 'Largest remote @context document accepted' },
  { key: 'contextCacheTtlSeconds', env: 'KEND_CONTEXT_CACHE_TTL_SECONDS', kind: 'int', default: 3600, min: 0, max: 31_536_000, description: 'How long a downloaded @context stays cached' },
  { key: 'contextMaxDepth', env: 'KEND_CONTEXT_MAX_DEPTH', kind: 'int', default: 8, min: 1, max: 64, description: 'Deepest chain of remote @contexts importing each other' },
  { key: 'maxQueryLength', env: 'KEND_MAX_Q_LENGTH', kind: 'int', default: 4096, min: 16, max: 1_048_576, description: 'Longest q / scopeQ expression' },
  { key: 'maxIdPatternLength', env: 'KEND_MAX_IDPATTERN_LENGTH', kind: 'int', default: 1024, min: 16, max: 65_536, description: 'Longest idPattern' },
  { key: 'maxGeometryVertices', env: 'KEND_MAX_GEOMETRY_VERTICES', kind: 'int', default: 100_000, min: 4, max: 10_000_000, description: 'Most positions in one GeoJSON geometry' },
  { key: 'defaultPageSize', env: 'KEND_DEFAULT_PAGE_SIZE', kind: 'int', default: 20, min: 1, max: 100_000, description: 'Page size when `limit` is absent' },
  { key: 'maxPageSize', env: 'KEND_MAX_PAGE_SIZE', kind: 'int', default: 1000, min: 1, max: 100_000, description: 'Largest `limit`; larger → 403 TooManyResults' },
  { key: 'maxBatchSize', env: 'KEND_MAX_BATCH_SIZE', kind: 'int', default: 1000, min: 1, max: 1_000_000, description: 'Most entities in one batch request; more → 400 BadRequestData' },
  { key: 'notifyAllow', env: 'KEND_NOTIFY_ALLOW', kind: 'string', default: '', description: 'Comma list of CIDRs/hostnames notifications may go to; empty = any not denied' },
  { key: 'notifyDeny', env: 'KEND_NOTIFY_DENY', kind: 'string', default: '', description: 'Comma list of CIDRs/hostnames refused as notification (and forwarding) targets, on top of the built-in link-local and cloud-metadata denials' },
  { key: 'notifyTimeoutMs', env: 'KEND_NOTIFY_TIMEOUT_MS', kind: 'int', default: 10_000, min: 100, max: 600_000, description: 'Timeout of one notification delivery (unless the endpoint sets its own)' },
  { key: 'notifyMaxAttempts', env: 'KEND_NOTIFY_MAX_ATTEMPTS', kind: 'int', default: 10, min: 1, max: 1000, description: 'Attempts per notification before it is given up' },
  { key: 'notifyRetryBaseMs', env: 'KEND_NOTIFY_RETRY_BASE_MS', kind: 'int', default: 500, min: 1, max: 3_600_000, description: 'First retry delay; doubles per attempt' },
  { key: 'notifyRetryMaxMs', env: 'KEND_NOTIFY_RETRY_MAX_MS', kind: 'int', default: 300_000, min: 1, max: 86_400_000, description: 'Cap of the retry delay' },
  { key: 'notifyEndpointConcurrency', env: 'KEND_NOTIFY_ENDPOINT_CONCURRENCY', kind: 'int', default: 8, min: 1, max: 1000, description: 'Deliveries in flight per endpoint' },
  { key: 'notifyLeaseMs', env: 'KEND_NOTIFY_LEASE_MS', kind: 'int', default: 60_000, min: 100, max: 86_400_000, description: 'How long a node holds claimed notifications; after a crash they are delivered again once it expires' },
  { key: 'notifyPollMs', env: 'KEND_NOTIFY_POLL_MS', kind: 'int', default: 1000, min: 10, max: 600_000, description: 'Outbox and periodic-subscription poll interval (writes on this node wake delivery at once)' },
  { key: 'subscriptionMaxFailures', env: 'KEND_SUBSCRIPTION_MAX_FAILURES', kind: 'int', default: 5, min: 0, max: 100_000, description: 'Consecutive delivery failures after which a subscription shows status failed (0 = never)' },
  { key: 'historyEnabled', env: 'KEND_HISTORY', kind: 'bool', default: true, description: 'Record every entity change as temporal history (`false`: only the temporal API writes history)' },
  { key: 'historyRetention', env: 'KEND_HISTORY_RETENTION', kind: 'duration', default: '', description: 'How long history is kept, an ISO 8601 duration (`P90D`, `P1Y`); empty = forever. A background job removes older instances' },
  { key: 'historyPruneIntervalMs', env: 'KEND_HISTORY_PRUNE_INTERVAL_MS', kind: 'int', default: 3_600_000, min: 1000, max: 86_400_000, description: 'How often the retention job runs (only with `KEND_HISTORY_RETENTION`)' },
  { key: 'temporalInstanceLimit', env: 'KEND_TEMPORAL_INSTANCE_LIMIT', kind: 'int', default: 1000, min: 1, max: 100_000, description: 'Most instances per attribute in one temporal answer; more → 206 Partial Content with Content-Range' },
  { key: 'forwardTimeoutMs', env: 'KEND_FORWARD_TIMEOUT_MS', kind: 'int', default: 5000, min: 50, max: 600_000, description: 'Timeout of one request forwarded to a registered context source (unless its registration sets management.timeout); a source that does not answer in time makes the answer partial' },
  { key: 'forwardMaxBytes', env: 'KEND_FORWARD_MAX_BYTES', kind: 'int', default: 16_777_216, min: 1024, max: 1_073_741_824, description: 'Largest answer accepted from a context source; a larger one is dropped with NGSILD-Warning 111' },
  { key: 'entityMapLifetime', env: 'KEND_ENTITY_MAP_LIFETIME', kind: 'duration', default: 'PT1H', description: 'Lifetime of an EntityMap whose request gives no `entityMapLifetime`, an ISO 8601 duration' },
  { key: 'entityMapMaxLifetime', env: 'KEND_ENTITY_MAP_MAX_LIFETIME', kind: 'duration', default: 'P1D', description: 'Longest EntityMap lifetime: a longer `entityMapLifetime`, or a PATCHed `expiresAt` further away, is cut to it' },
  { key: 'entityMapMaxEntries', env: 'KEND_ENTITY_MAP_MAX_ENTRIES', kind: 'int', default: 100_000, min: 1, max: 10_000_000, description: 'Most entities one EntityMap holds; creating a map for a query matching more → 403 TooManyResults' },
  { key: 'entityMapSweepIntervalMs', env: 'KEND_ENTITY_MAP_SWEEP_INTERVAL_MS', kind: 'int', default: 60_000, min: 100, max: 86_400_000, description: 'How often expired EntityMaps are deleted from the store (they are invisible from their expiry on)' },
  { key: 'brokerId', env: 'KEND_BROKER_ID', kind: 'string', default: '', description: 'This broker\'s pseudonym in the Via header of forwarded requests (loop prevention); empty = a random one per process' },
];
