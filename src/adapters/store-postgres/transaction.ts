// One PostgreSQL transaction on a pooled connection, retried (bounded) when it lost a race it can win again.
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseError, type Pool, type PoolClient, type QueryResult } from 'pg';
import { pipeline, PipelineError, type Step } from './pipeline.ts';

/** Attempts of one transaction before the last error is returned to the caller. */
export const MAX_ATTEMPTS = 5;

/** The entities primary key: a unique violation on it means a concurrent create of the same id won. */
export const ENTITIES_PKEY = 'entities_pkey';

export type RetryReason = 'concurrent-create' | 'serialization' | 'deadlock';

/**
 * Why a failed transaction may succeed when run again from the start, or null when it may not.
 * - 23505 on entities_pkey: two writers saw no row and both inserted; rerun, `decide` then sees the row.
 * - 40001 / 40P01: PostgreSQL aborted us to break a serialization conflict or a deadlock.
 * Anything else (a throwing `decide`, a lost connection, a COMMIT of unknown outcome) is not retried.
 */
export function retryReason(err: unknown): RetryReason | null {
  if (!(err instanceof DatabaseError)) return null;
  if (err.code === '23505' && err.constraint === ENTITIES_PKEY) return 'concurrent-create';
  if (err.code === '40001') return 'serialization';
  if (err.code === '40P01') return 'deadlock';
  return null;
}

/** Rolls back; returns the error that makes the connection unusable (the pool then discards it). */
async function rollback(client: PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export interface TransactionOptions {
  /**
   * The transaction's named statements run their cached generic plan instead of being planned again for
   * every execution. For fixed-shape writes whose every plan is the same index path: PostgreSQL keeps
   * choosing custom plans for them (its generic cost estimate of their CTEs is higher), and planning then
   * costs more than executing (update_entity: 0.40 ms planning per 0.22 ms execution, pg_stat_statements).
   * Set in the BEGIN round trip (SET LOCAL ends with the transaction); never for ad hoc queries, which
   * need plans for their values.
   */
  genericPlans?: boolean;
}

const BEGIN = 'BEGIN';
const BEGIN_GENERIC = 'BEGIN; SET LOCAL plan_cache_mode = force_generic_plan';

/**
 * Runs `work` between BEGIN and COMMIT (READ COMMITTED) on one pooled connection. Any throw rolls back.
 * Retryable failures (see retryReason) rerun the whole of `work`, so it must have no effect outside the
 * transaction; serialization failures and deadlocks back off a few jittered milliseconds first.
 */
export async function inTransaction<R>(
  pool: Pool,
  work: (client: PoolClient) => Promise<R>,
  options: TransactionOptions = {},
): Promise<R> {
  const begin = options.genericPlans === true ? BEGIN_GENERIC : BEGIN;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    let reason: RetryReason | null;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = await rollback(client);
      reason = retryReason(err);
      if (reason === null || attempt >= MAX_ATTEMPTS) throw err;
    } finally {
      client.release(broken);
    }
    if (reason !== 'concurrent-create') await sleep(Math.random() * 2 ** attempt);
  }
}

/** A transaction whose statements go in pipelines (pipeline.ts): a write in two round trips, not five. */
export interface PipelinedTransaction {
  /** The first round trip: BEGIN (and the options' SET LOCAL), then `steps`; their results. */
  open(steps: readonly Step[]): Promise<QueryResult[]>;
  /** The whole transaction in one round trip: BEGIN, `steps`, COMMIT; their results. */
  all(steps: readonly Step[]): Promise<QueryResult[]>;
  /** A round trip in the open transaction. */
  run(steps: readonly Step[]): Promise<QueryResult[]>;
  /** The last round trip: `steps`, then COMMIT; their results. Nothing may run after it. */
  commit(steps: readonly Step[]): Promise<QueryResult[]>;
}

/**
 * inTransaction with pipelined round trips: `work` gets the transaction, opens it with its first reads and
 * ends it with its writes and the COMMIT (a transaction `work` leaves open is committed after it). Rollback,
 * retries and their reasons are inTransaction's; a pipeline error surfaces as pg's DatabaseError. A
 * connection whose prepared statements are uncertain after a failed pipeline is discarded, not reused.
 */
export async function inPipelinedTransaction<R>(
  pool: Pool,
  work: (tx: PipelinedTransaction) => Promise<R>,
  options: TransactionOptions = {},
): Promise<R> {
  const beginSteps: Step[] = options.genericPlans === true ? ['BEGIN', 'SET LOCAL plan_cache_mode = force_generic_plan'] : ['BEGIN'];
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    let reason: RetryReason | null;
    let state: 'idle' | 'open' | 'done' = 'idle';
    const send = async (steps: readonly Step[]): Promise<QueryResult[]> => {
      try {
        return await pipeline(client, steps);
      } catch (err) {
        if (err instanceof PipelineError) {
          if (err.unsure) broken = err;
          throw err.cause;
        }
        throw err;
      }
    };
    const tx: PipelinedTransaction = {
      async open(steps) {
        if (state !== 'idle') throw new Error('transaction: open twice');
        state = 'open';
        return (await send([...beginSteps, ...steps])).slice(beginSteps.length);
      },
      async all(steps) {
        if (state !== 'idle') throw new Error('transaction: all after open');
        state = 'done';
        return (await send([...beginSteps, ...steps, 'COMMIT'])).slice(beginSteps.length, beginSteps.length + steps.length);
      },
      async run(steps) {
        if (state !== 'open') throw new Error('transaction: run outside the open transaction');
        return send(steps);
      },
      async commit(steps) {
        if (state !== 'open') throw new Error('transaction: commit outside the open transaction');
        state = 'done';
        return (await send([...steps, 'COMMIT'])).slice(0, steps.length);
      },
    };
    try {
      const result = await work(tx);
      if (state === 'idle') {
        await tx.open([]);
        await tx.commit([]);
      } else if (state === 'open') await tx.commit([]);
      return result;
    } catch (err) {
      if (broken === undefined && state !== 'idle') broken = await rollback(client);
      reason = retryReason(err);
      if (reason === null || attempt >= MAX_ATTEMPTS) throw err;
    } finally {
      client.release(broken);
    }
    if (reason !== 'concurrent-create') await sleep(Math.random() * 2 ** attempt);
  }
}
