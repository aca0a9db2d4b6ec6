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
import type { SubscriptionStore } from './ports/subscription-store.ts';
import type { CsourceSubscriptionStore } from './ports/csource-subscription-store.ts';
import { CSOURCE_OUTBOX_PREFIX } from './ports/csource-subscription-store.ts';
import type { RegistrationStore } from './ports/registration-store.ts';
import type { TemporalStore } from './ports/temporal-store.ts';
import { parseDuration } from './core/temporal/duration.ts';
import { createRecordingStore } from './services/recording-store.ts';
import { createHistoryRetention } from './services/history-retention.ts';
import { createTemporalService } from './services/temporal.ts';
import { createTemporalQueryService } from './services/temporal-queries.ts';
import { temporalRoutes } from './http/routes/temporal.ts';
import type { JsonValue } from './core/json.ts';
import type { TenantId } from './core/tenant.ts';
import type { RequestContext } from './core/jsonld/term-map.ts';
import { checkDestination, parseDestinationPolicy } from './core/destination-policy.ts';
import { createDispatchTransport } from './adapters/notify-dispatch.ts';
import { createHttpTransport } from './adapters/notify-http.ts';
import { createMqttTransport } from './adapters/notify-mqtt.ts';
import { createDeliveryWorker } from './services/delivery-worker.ts';
import { createNotifyingStore } from './services/notifying-store.ts';
import { createPeriodicNotifier } from './services/periodic-notifier.ts';
import { createSubscriptionRegistry } from './services/subscription-registry.ts';
import { createSubscriptionService } from './services/subscriptions.ts';
import { subscriptionRoutes } from './http/routes/subscriptions.ts';
import { createRegistrationService } from './services/registrations.ts';
import { csourceRegistrationRoutes } from './http/routes/csource-registrations.ts';
import { createCsourceSubscriptionRegistry } from './services/csource-subscription-registry.ts';
import { createCsourceSubscriptionService, type CsourceSubscriptionService } from './services/csource-subscriptions.ts';
import { csourceSubscriptionRoutes } from './http/routes/csource-subscriptions.ts';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DocumentFetcher } from './ports/context-loader.ts';
import { createContextResolver } from './services/context-resolver.ts';
import { createEntityService } from './services/entities.ts';
import { createHttpForwarder } from './adapters/forward-http.ts';
import { createFederation, type Federation } from './services/federation.ts';
import { createTenantRegistry } from './services/tenants.ts';
import type { EntityMapStore } from './ports/entity-map-store.ts';
import { createEntityMapService } from './services/entity-maps.ts';
import { createEntityMapQueries } from './services/entity-map-queries.ts';
import { createEntityMapSweep } from './services/entity-map-sweep.ts';
import { entityMapRoutes } from './http/routes/entity-maps.ts';
import type { EntityMapping } from './http/routes/query.ts';
import type { TemporalQueryService } from './services/temporal-queries.ts';
import type { PeriodDuration } from './core/temporal/model.ts';

export interface Kend {
  app: ReturnType<typeof createApp>;
  store: EntityStore;
  /** The temporal store when the entity store provides one (the temporal API is served only then). */
  temporal?: TemporalStore;
  /** Stops accepting requests, then closes the store: reverse order of start-up. */
  close(): Promise<void>;
}

/** The store as opened, with the optional ports an adapter may provide. */
type Stores = EntityStore & {
  subscriptions?: SubscriptionStore;
  temporal?: TemporalStore;
  registrations?: RegistrationStore;
  csourceSubscriptions?: CsourceSubscriptionStore;
  entityMaps?: EntityMapStore;
};

export interface KendOverrides {
  logger?: Logger;
  clock?: Clock;
  fetcher?: DocumentFetcher;
}

async function openStore(config: Readonly<KendConfig>, clock: Clock): Promise<Stores> {
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
  const base = await openStore(config, clock);
  const contexts = createContextResolver({ store: base, fetcher: overrides.fetcher ?? createHttpDocumentFetcher(), clock, config });
  const resolveContext = (c: JsonValue | undefined) => contexts.resolve(c);
  const ensureContextUrl = (rc: RequestContext) => contexts.ensureUrl(rc);
  const limits = { maxGeometryVertices: config.maxGeometryVertices };
  const queryLimits = { maxQueryLength: config.maxQueryLength, maxIdPatternLength: config.maxIdPatternLength, maxGeometryVertices: config.maxGeometryVertices };

  // Subscriptions and notifications: a registry of compiled subscriptions, the entity store wrapped so
  // every change writes the notifications it owes into the durable outbox, and a worker draining it.
  let policy: ReturnType<typeof parseDestinationPolicy>;
  try {
    policy = parseDestinationPolicy(config.notifyAllow, config.notifyDeny);
  } catch (e) {
    throw new ConfigError('KEND_NOTIFY_ALLOW/KEND_NOTIFY_DENY', (e as Error).message);
  }
  const subStore = base.subscriptions;
  const registrationStore = 'registrations' in base ? base.registrations : undefined;
  const csubStore = 'csourceSubscriptions' in base ? base.csourceSubscriptions : undefined;
  let kickWorker: (atMs?: number) => void = () => {};
  let store: EntityStore = base;
  const stoppers: (() => Promise<void>)[] = [];
  const routes = [];
  let federation: Federation | undefined;

  // History: every entity change records its attribute instances in the same transaction (issue 6), when
  // the store provides the temporal port and history is on; retention prunes old instances in the background.
  const temporal = 'temporal' in base ? base.temporal : undefined;
  if (temporal !== undefined) {
    if (config.historyEnabled) store = createRecordingStore({ store, clock });
    if (config.historyRetention !== '') {
      const retention = parseDuration(config.historyRetention);
      if (retention === null) throw new ConfigError('KEND_HISTORY_RETENTION', `"${config.historyRetention}" is not an ISO 8601 duration`);
      const job = createHistoryRetention({ temporal, clock, retention, intervalMs: config.historyPruneIntervalMs, logger });
      job.start();
      stoppers.push(() => job.stop());
    }
  }
  if (subStore !== undefined) {
    const registry = createSubscriptionRegistry({ store: subStore, resolveContext, ensureContextUrl, limits: queryLimits, logger });
    await registry.refresh();
    const transport = createDispatchTransport({ http: createHttpTransport({ policy }), mqtt: createMqttTransport({ policy }) });
    // Delivery outcomes go to the kind of subscription the outbox row belongs to (entity or CSR subscription).
    const outbox = {
      claimDue: subStore.claimDue.bind(subStore),
      complete: subStore.complete.bind(subStore),
      retryLater: subStore.retryLater.bind(subStore),
      recordDelivery: (tenant: TenantId, subscriptionId: string, outcome: { ok: boolean; at: string }): Promise<void> =>
        subscriptionId.startsWith(CSOURCE_OUTBOX_PREFIX) && csubStore !== undefined
          ? csubStore.recordCsourceDelivery(tenant, subscriptionId.slice(CSOURCE_OUTBOX_PREFIX.length), outcome)
          : subStore.recordDelivery(tenant, subscriptionId, outcome),
    };
    const worker = createDeliveryWorker({
      outbox,
      transport,
      clock,
      logger,
      owner: `${hostname()}:${process.pid}:${randomUUID()}`,
      config: {
        batchSize: 200,
        leaseMs: config.notifyLeaseMs,
        pollIntervalMs: config.notifyPollMs,
        perEndpointConcurrency: config.notifyEndpointConcurrency,
        requestTimeoutMs: config.notifyTimeoutMs,
        retryBaseMs: config.notifyRetryBaseMs,
        retryMaxMs: config.notifyRetryMaxMs,
        maxAttempts: config.notifyMaxAttempts,
      },
    });
    store = createNotifyingStore({
      store,
      registry,
      clock,
      onEnqueued: (dueAtMs) => {
        for (const at of dueAtMs) worker.kick(at);
      },
    });
    const periodic = createPeriodicNotifier({
      entities: base,
      subscriptions: subStore,
      registry,
      clock,
      onEnqueued: () => worker.kick(),
      tickMs: config.notifyPollMs,
      maxEntities: config.maxPageSize,
      logger,
    });
    // Other nodes' subscription changes reach this node's matcher within one poll interval.
    const refresher = setInterval(() => {
      registry.refreshIfStale().catch((err: unknown) => logger.warn({ err }, 'subscription refresh failed'));
    }, config.notifyPollMs);
    refresher.unref();
    const subscriptions = createSubscriptionService({
      store: subStore,
      registry,
      clock,
      limits: queryLimits,
      maxConsecutiveFailures: config.subscriptionMaxFailures,
      checkEndpoint: (uri) => checkDestination(policy, uri),
      resolveContext,
      ensureContextUrl,
    });
    routes.push(subscriptionRoutes(subscriptions, config));
    kickWorker = (atMs) => worker.kick(atMs);
    worker.start();
    periodic.start();
    stoppers.push(async () => {
      clearInterval(refresher);
      await periodic.stop();
      await worker.stop();
      await transport.close();
    });
  }

  // Context source registrations (issue 7): served when the store provides the registration port; their
  // subscriptions (notified through the shared outbox) when it also provides those and the outbox.
  if (registrationStore !== undefined) {
    let csourceSubscriptions: CsourceSubscriptionService | undefined;
    if (subStore !== undefined && csubStore !== undefined) {
      const csubRegistry = createCsourceSubscriptionRegistry({ store: csubStore, resolveContext, ensureContextUrl, limits: queryLimits, logger });
      await csubRegistry.refresh();
      csourceSubscriptions = createCsourceSubscriptionService({
        store: csubStore,
        registrations: registrationStore,
        outbox: subStore,
        registry: csubRegistry,
        clock,
        limits: queryLimits,
        maxConsecutiveFailures: config.subscriptionMaxFailures,
        checkEndpoint: (uri) => checkDestination(policy, uri),
        resolveContext,
        ensureContextUrl,
        onEnqueued: () => kickWorker(),
      });
      routes.push(csourceSubscriptionRoutes(csourceSubscriptions, config));
      const csubRefresher = setInterval(() => {
        csubRegistry.refreshIfStale().catch((err: unknown) => logger.warn({ err }, 'context source subscription refresh failed'));
      }, config.notifyPollMs);
      csubRefresher.unref();
      stoppers.unshift(async () => clearInterval(csubRefresher));
    }
    // Distributed operations (issue 7 items 3, 4): requests forwarded to matching registered sources.
    const forwarder = createHttpForwarder({ policy, maxBytes: config.forwardMaxBytes });
    const fed = createFederation({
      registrations: registrationStore,
      forwarder,
      clock,
      limits,
      brokerId: config.brokerId !== '' ? config.brokerId : `kend-${randomUUID()}`,
      defaultTimeoutMs: config.forwardTimeoutMs,
      maxRemotePage: 1000,
      // Other nodes' registration changes reach this node's forwarding within one poll interval.
      versionTtlMs: config.notifyPollMs,
      temporalInstanceLimit: config.temporalInstanceLimit,
      logger,
    });
    federation = fed;
    stoppers.push(() => forwarder.close());
    const owedBy = csourceSubscriptions;
    const registrations = createRegistrationService({
      store: registrationStore,
      entities: base,
      clock,
      limits: queryLimits,
      checkEndpoint: (uri) => checkDestination(policy, uri),
      ...(owedBy !== undefined ? { owedFor: (tenant: TenantId) => owedBy.owedFor(tenant) } : {}),
      onCommitted: () => {
        fed.invalidate();
        if (owedBy !== undefined) kickWorker();
      },
    });
    routes.push(csourceRegistrationRoutes(registrations, config));
  }

  const tenants = createTenantRegistry(store);
  const entities = createEntityService({ store, clock, limits });
  const batch = createBatchService({ store, clock, limits, maxBatchSize: config.maxBatchSize, resolveContext });
  const queries = createEntityQueryService({ store, clock });
  const temporalQueries: TemporalQueryService | undefined =
    temporal === undefined ? undefined : createTemporalQueryService({ temporal, instanceLimit: config.temporalInstanceLimit });

  // EntityMaps (guide §19): kept in the store (shared by nodes, kept across restarts) when it provides the port.
  const entityMapStore = 'entityMaps' in base ? base.entityMaps : undefined;
  let emaps: EntityMapping | undefined;
  if (entityMapStore !== undefined) {
    const duration = (env: string, raw: string): PeriodDuration => {
      const d = parseDuration(raw);
      if (d === null || (d.months === 0 && d.ms === 0)) throw new ConfigError(env, `"${raw}" is not a positive ISO 8601 duration`);
      return d;
    };
    const maps = createEntityMapService({
      store: entityMapStore,
      clock,
      defaultLifetime: duration('KEND_ENTITY_MAP_LIFETIME', config.entityMapLifetime),
      maxLifetime: duration('KEND_ENTITY_MAP_MAX_LIFETIME', config.entityMapMaxLifetime),
      maxEntries: config.entityMapMaxEntries,
    });
    emaps = { maps, mapQueries: createEntityMapQueries({ maps, queries, ...(temporalQueries !== undefined ? { temporalQueries } : {}) }) };
    const sweep = createEntityMapSweep({ sweep: () => maps.sweep(), intervalMs: config.entityMapSweepIntervalMs, logger });
    sweep.start();
    stoppers.push(() => sweep.stop());
    routes.push(entityMapRoutes(emaps, queries, queryLimits, { ...(federation !== undefined ? { federation } : {}), temporal: temporalQueries !== undefined }));
  }
  if (temporal !== undefined && temporalQueries !== undefined) {
    const provision = createTemporalService({ store, temporal, clock, limits });
    routes.push(temporalRoutes(provision, temporalQueries, config, federation, emaps));
  }
  const app = createApp({
    maxBodyBytes: config.maxBodyBytes,
    logger,
    routes: [entityRoutes(entities, federation, emaps), queryRoutes(queries, config, federation, emaps), discoveryRoutes(store, federation), batchRoutes(batch, federation), contextRoutes(contexts), ...routes],
    deps: { resolveContext, ensureContextUrl, tenantExists: (t) => tenants.exists(t) },
  });
  return {
    app,
    store,
    ...(temporal !== undefined ? { temporal } : {}),
    async close() {
      await app.close();
      for (const stop of stoppers) await stop();
      await base.close();
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
