// Group commit for the SQLite store (ADR 0001 amendment, issue 8): the writes that arrive during one turn
// of the event loop share one transaction and so one fsync, instead of one fsync each. Each write keeps its
// own savepoint, so a write that throws is undone alone; every promise settles only after the group is
// durable — after COMMIT returned, and with a WAL syncer after the WAL's fsync completed (wal-sync.ts) — so
// an acknowledged write is still a durable write.
import type BetterSqlite3 from 'better-sqlite3';
import type { WalSyncer } from './wal-sync.ts';

export interface GroupCommitter {
  /** Runs `work` inside the next group transaction; resolves with its result once that transaction committed. */
  run<R>(work: () => R): Promise<R>;
}

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** At most this many writes share one transaction: bounds how long one flush holds the event loop. */
export const DEFAULT_GROUP_LIMIT = 512;

export interface GroupCommitOptions {
  limit?: number;
  /**
   * Told when work was undone (false: a write's savepoint rolled back, or the whole group failed) or made
   * durable (true: the group committed), for caches that must forget what a rollback removed.
   */
  settle?: (committed: boolean) => void;
  /**
   * When given, groups commit with `synchronous = NORMAL` and are acknowledged after this syncer's fsync
   * instead of blocking the event loop on COMMIT's own fsync; other transactions of the connection keep
   * the connection's setting (FULL).
   */
  walSync?: WalSyncer | null;
}

export function createGroupCommitter(db: BetterSqlite3.Database, options: GroupCommitOptions = {}): GroupCommitter {
  const limit = options.limit ?? DEFAULT_GROUP_LIMIT;
  const settle = options.settle ?? ((): void => {});
  const walSync = options.walSync ?? null;
  // Prepared once: db.exec compiles its SQL on every call, and a group runs two of these per write plus two
  // per transaction. Not the synchronous pragma: SQLite applies it while compiling the statement, so a
  // prepared copy would take effect once, at prepare time, and do nothing when run (issue found by the test
  // "with a WAL syncer a group commits without blocking on fsync…").
  const sql = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT kend_write'),
    release: db.prepare('RELEASE kend_write'),
    rollbackTo: db.prepare('ROLLBACK TO kend_write'),
  };
  const relax = (): void => void (walSync !== null && db.pragma('synchronous = NORMAL'));
  const restore = (): void => void (walSync !== null && db.pragma('synchronous = FULL'));
  let queue: Pending[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const group = queue.slice(0, limit);
    queue = queue.slice(group.length);
    if (queue.length > 0) schedule();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      relax();
      sql.begin.run();
    } catch (err) {
      restore();
      for (const p of group) p.reject(err);
      return;
    }
    try {
      for (const p of group) {
        sql.savepoint.run();
        try {
          const value = p.work();
          sql.release.run();
          outcomes.push({ ok: true, value });
        } catch (err) {
          sql.rollbackTo.run();
          sql.release.run();
          settle(false);
          outcomes.push({ ok: false, value: err });
        }
      }
      sql.commit.run();
    } catch (err) {
      // The commit (or a savepoint statement) failed: nothing of the group is durable.
      if (db.inTransaction) sql.rollback.run();
      restore();
      settle(false);
      for (const p of group) p.reject(err);
      return;
    }
    restore();
    settle(true);
    const acknowledge = (): void =>
      group.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.value);
      });
    if (walSync === null) acknowledge();
    else {
      walSync.sync().then(acknowledge, (err: unknown) => {
        // Committed but not known to be durable: no write of the group may be acknowledged as done.
        for (const p of group) p.reject(err);
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  return {
    run<R>(work: () => R): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
  };
}
