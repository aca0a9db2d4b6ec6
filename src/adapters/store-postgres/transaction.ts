// One PostgreSQL transaction on a pooled connection, retried (bounded) when it lost a race it can win again.
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseError, type Pool, type PoolClient } from 'pg';

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

/**
 * Runs `work` between BEGIN and COMMIT (READ COMMITTED) on one pooled connection. Any throw rolls back.
 * Retryable failures (see retryReason) rerun the whole of `work`, so it must have no effect outside the
 * transaction; serialization failures and deadlocks back off a few jittered milliseconds first.
 */
export async function inTransaction<R>(pool: Pool, work: (client: PoolClient) => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    let reason: RetryReason | null;
    try {
      await client.query('BEGIN');
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
