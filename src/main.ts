// Composition root: the only module that picks adapters. `npm start` runs it; tests call buildKend().
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { createHttpDocumentFetcher } from './adapters/context-fetch-http.ts';
import { createSqliteStore } from './adapters/store-sqlite/sqlite-store.ts';
import { createPostgresStore } from './adapters/store-postgres/postgres-store.ts';
import { ConfigError, loadConfig, printableConfig } from './config/load.ts';
import type { KendConfig } from './config/schema.ts';
import { createApp } from './http/app.ts';
import { contextRoutes } from './http/routes/contexts.ts';
import { entityRoutes } from './http/routes/entities.ts';
import { batchRoutes } from './http/routes/batch.ts';
import { queryRoutes } from './http/routes/query.ts';
import { discoveryRoutes } from './http/routes/discovery.ts';
import { createEntityQueryService } from './services/entity-queries.ts';
import { createBatchService } from './services/batch.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { EntityStore } from './ports/store.ts';
import type { DocumentFetcher } from './ports/context-loader.ts';
import { createContextResolver } from './services/context-resolver.ts';
import { createEntityService } from './services/entities.ts';
import { createTenantRegistry } from './services/tenants.ts';

export interface Kend {
  app: ReturnType<typeof createApp>;
  store: EntityStore;
  /** Stops accepting requests, then closes the store: reverse order of start-up. */
  close(): Promise<void>;
}

export interface KendOverrides {
  logger?: Logger;
  clock?: Clock;
  fetcher?: DocumentFetcher;
}

async function openStore(config: Readonly<KendConfig>, clock: Clock): Promise<EntityStore> {
  const m = /^sqlite:(.*)$/.exec(config.databaseUrl);
  if (m) {
    const path = m[1] === ':memory:' ? ':memory:' : resolve(m[1]!);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    return createSqliteStore({ path, clock });
  }
  return createPostgresStore({ url: config.databaseUrl, poolSize: config.databasePoolSize, clock });
}

export async function buildKend(config: Readonly<KendConfig>, overrides: KendOverrides = {}): Promise<Kend> {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const clock = overrides.clock ?? systemClock;
  const store = await openStore(config, clock);
  const contexts = createContextResolver({ store, fetcher: overrides.fetcher ?? createHttpDocumentFetcher(), clock, config });
  const tenants = createTenantRegistry(store);
  const entities = createEntityService({ store, clock, limits: { maxGeometryVertices: config.maxGeometryVertices } });
  const batch = createBatchService({
    store,
    clock,
    limits: { maxGeometryVertices: config.maxGeometryVertices },
    maxBatchSize: config.maxBatchSize,
    resolveContext: (c) => contexts.resolve(c),
  });
  const queries = createEntityQueryService({ store, clock });
  const app = createApp({
    maxBodyBytes: config.maxBodyBytes,
    logger,
    routes: [entityRoutes(entities), queryRoutes(queries, config), discoveryRoutes(store), batchRoutes(batch), contextRoutes(contexts)],
    deps: {
      resolveContext: (c) => contexts.resolve(c),
      ensureContextUrl: (rc) => contexts.ensureUrl(rc),
      tenantExists: (t) => tenants.exists(t),
    },
  });
  return {
    app,
    store,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  let config: Readonly<KendConfig>;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`kend: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (process.argv.includes('--print-config')) {
    process.stdout.write(`${JSON.stringify(printableConfig(config), null, 2)}\n`);
    return;
  }
  const kend = await buildKend(config);
  const address = await kend.app.listen({ port: config.port, host: config.host });
  kend.app.log.info({ address, database: printableConfig(config).KEND_DATABASE_URL }, `Kend NGSI-LD API at ${address}/ngsi-ld/v1`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    kend.app.log.info({ signal }, 'shutting down');
    kend.close().then(
      () => process.exit(0),
      (err: unknown) => {
        kend.app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`kend: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
