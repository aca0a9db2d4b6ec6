// Group commit for the PostgreSQL store's single-entity writes (issue 3 item 7, issue 8), the counterpart of
// the SQLite store's group committer: while every group slot is busy, the writes that arrive wait and then
// share one transaction — all their rows locked (in key order) in one round trip, all decided, then all
// written and committed in a second — instead of two round trips and a commit each. On loopback a round trip
// costs more CPU than a PATCH's statements (a send that wakes PostgreSQL, a command cycle there), so under
// load this is what bounds writes/s. With a free slot a write starts at once (the next turn), alone or with
// whatever arrived in the same turn: grouping adds no wait when there is no queue.
import { DatabaseError, type Pool, type QueryResult } from 'pg';
import type { Step } from './pipeline.ts';
import { inPipelinedTransaction, type TransactionOptions } from './transaction.ts';

/** One write waiting for a group. */
export interface GroupMember {
  /** Its row's key (tenant, then id key): the lock order, and one member per key in a group. */
  key: readonly [string, string];
  /** The first round trip's statement for it: its row locked, read for `decide`. */
  lock: Step;
  /**
   * Decides from the locked row: the statements of its write. Pure (a retried group decides again). A throw
   * refuses this member alone: nothing of it is written and `fail` gets the error once the group is done.
   */
  decide(locked: QueryResult): MemberWrite;
  /** Its write (its last decision) is committed: settle the caller. */
  committed(): void;
  /** Refused by decide (after the group ended, whatever became of it). */
  fail(err: unknown): void;
  /** The group failed as a whole (a statement failed): run this write in its own transaction and settle. */
  alone(): void;
}

export interface MemberWrite {
  steps: Step[];
  /**
   * Checks the results of `steps` (same order) before the COMMIT is sent; a throw aborts the group, whose
   * members then run alone. Only for writes whose validity shows in a result.
   */
  check?: (results: QueryResult[]) => void;
}

export interface WriteGroupOptions {
  /** Groups in flight at once, each on its own pooled connection. */
  slots: number;
  /** Members per group at most. */
  limit: number;
  transaction: TransactionOptions;
}

/** Defaults: a few groups in flight keep PostgreSQL's cores busy while the rest queue into the next group. */
export const DEFAULT_WRITE_GROUP_SLOTS = 3;
export const DEFAULT_WRITE_GROUP_LIMIT = 64;

export interface WriteGroups {
  submit(member: GroupMember): void;
}

const compareKeys = (a: GroupMember, b: GroupMember): number => {
  const [ta, ia] = a.key;
  const [tb, ib] = b.key;
  // UTF-16 order, which is the "C" collation order of the keys (text-key.ts), as the batch lock uses.
  if (ta !== tb) return ta < tb ? -1 : 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
};

export function createWriteGroups(pool: Pool, options: WriteGroupOptions): WriteGroups {
  let queue: GroupMember[] = [];
  let busy = 0;
  let scheduled = false;

  /** The next group: queue order, one member per key (a repeated key waits for a later group), at most limit. */
  function take(): GroupMember[] {
    const group: GroupMember[] = [];
    const rest: GroupMember[] = [];
    const keys = new Set<string>();
    for (const m of queue) {
      const k = `${m.key[0]}\u0000${m.key[1]}`;
      if (group.length < options.limit && !keys.has(k)) {
        keys.add(k);
        group.push(m);
      } else rest.push(m);
    }
    queue = rest;
    return group;
  }

  async function runGroup(group: GroupMember[]): Promise<void> {
    const ordered = [...group].sort(compareKeys);
    let writes: (MemberWrite | null)[] = [];
    let refusals: unknown[] = [];
    let commitSent = false;
    try {
      await inPipelinedTransaction(
        pool,
        async (tx) => {
          writes = [];
          refusals = [];
          commitSent = false;
          const locked = await tx.open(ordered.map((m) => m.lock));
          const steps: Step[] = [];
          ordered.forEach((m, i) => {
            try {
              const w = m.decide(locked[i]!);
              writes.push(w);
              refusals.push(undefined);
              steps.push(...w.steps);
            } catch (err) {
              writes.push(null);
              refusals.push(err);
            }
          });
          if (writes.some((w) => w?.check !== undefined)) {
            const results = await tx.run(steps);
            let at = 0;
            for (const w of writes) {
              if (w === null) continue;
              w.check?.(results.slice(at, at + w.steps.length));
              at += w.steps.length;
            }
            commitSent = true;
            await tx.commit([]);
          } else {
            commitSent = true;
            await tx.commit(steps);
          }
        },
        options.transaction,
      );
    } catch (err) {
      // Before the COMMIT was sent, or refused by PostgreSQL itself: nothing of the group was committed, and
      // each write on its own shows which one fails, and why. A COMMIT of unknown outcome (the connection
      // broke) must not be redone: the writes may be durable, so each caller gets the error, as a single
      // write's caller does.
      if (!commitSent || err instanceof DatabaseError) for (const m of ordered) m.alone();
      else for (const m of ordered) m.fail(err);
      return;
    }
    ordered.forEach((m, i) => {
      const w = writes[i];
      if (w === null || w === undefined) m.fail(refusals[i]);
      else m.committed();
    });
  }

  function start(): void {
    scheduled = false;
    while (busy < options.slots && queue.length > 0) {
      const group = take();
      busy++;
      void runGroup(group).finally(() => {
        busy--;
        pump();
      });
    }
  }

  function pump(): void {
    if (scheduled || busy >= options.slots || queue.length === 0) return;
    scheduled = true;
    setImmediate(start);
  }

  return {
    submit(member) {
      queue.push(member);
      pump();
    },
  };
}
