// Periodic subscriptions (GS CIM 009 §5.8, timeInterval): every interval, the current state of all matching
// entities in one notification. Due subscriptions are claimed atomically in the store, so with several
// nodes each period is sent once, not once per node.
import type { EntityQuery } from '../core/query/entity-query.ts';
import { currentStateMatch } from '../core/subscription/matcher.ts';
import { isNotifying } from '../core/subscription/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { EntityStore } from '../ports/store.ts';
import type { SubscriptionStore } from '../ports/subscription-store.ts';
import { entryFor } from './notifying-store.ts';
import type { SubscriptionRegistry } from './subscription-registry.ts';

export interface PeriodicNotifierDeps {
  entities: Pick<EntityStore, 'queryEntities'>;
  subscriptions: Pick<SubscriptionStore, 'claimPeriodic' | 'enqueue'>;
  registry: Pick<SubscriptionRegistry, 'find'>;
  clock: Clock;
  onEnqueued(): void;
  tickMs: number;
  /** Most entities carried by one periodic notification. */
  maxEntities: number;
  logger?: { error(obj: object, msg: string): void };
}

export function createPeriodicNotifier(deps: PeriodicNotifierDeps) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function tick(): Promise<void> {
    const now = deps.clock.nowIso();
    const due = await deps.subscriptions.claimPeriodic(now, 100);
    const entries = [];
    for (const { tenant, sub } of due) {
      const reg = deps.registry.find(tenant, sub.id);
      if (reg === undefined || !isNotifying(reg.compiled, now)) continue;
      const c = reg.compiled;
      const query: EntityQuery = {};
      if (c.selectors) query.selectors = c.selectors;
      if (c.q) query.q = c.q;
      if (c.scopeQ) query.scopeQ = c.scopeQ;
      if (c.geoQ) query.geo = c.geoQ;
      const page = await deps.entities.queryEntities(tenant, query, { limit: deps.maxEntities, offset: 0, count: false });
      // Nothing is sent when nothing matches (§5.8).
      if (page.entities.length === 0) continue;
      entries.push(entryFor(tenant, reg, page.entities.map((e) => currentStateMatch(c, e)), now, new Map()));
    }
    if (entries.length > 0) {
      await deps.subscriptions.enqueue(entries);
      deps.onEnqueued();
    }
  }

  return {
    start(): void {
      const loop = () => {
        running = tick()
          .catch((err: unknown) => deps.logger?.error({ err }, 'periodic notification tick failed'))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, deps.tickMs);
          });
      };
      timer = setTimeout(loop, deps.tickMs);
    },
    async stop(): Promise<void> {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
