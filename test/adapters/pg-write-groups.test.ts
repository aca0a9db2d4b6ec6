// The PostgreSQL group committer (write-groups.ts) and the pipeline under it (pipeline.ts), on the machine's
// PostgreSQL: grouping under load, a refusal that undoes only its member, a failing statement that sends
// every member of its group to a transaction of its own, and a connection that stays usable afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseError, Pool, type QueryResult } from 'pg';
import { createWriteGroups, type GroupMember } from '../../src/adapters/store-postgres/write-groups.ts';
import { inPipelinedTransaction } from '../../src/adapters/store-postgres/transaction.ts';
import { pipeline } from '../../src/adapters/store-postgres/pipeline.ts';
import { statement, type Param } from '../../src/adapters/store-postgres/statements.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';

const availability = await postgresAvailable();

if (!availability.ok) {
  it('runs the PostgreSQL write-group tests', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL write groups and pipelines', () => {
    let db: TestDatabase;
    let pool: Pool;

    before(async () => {
      db = await createTestDatabase(baseUrl);
      pool = new Pool({ connectionString: db.url, max: 4 });
      await pool.query('CREATE TABLE rows (k text PRIMARY KEY, v int NOT NULL)');
    });
    after(async () => {
      await pool.end();
      await db.drop();
    });

    const lock = statement('t_lock', 'SELECT (SELECT v FROM rows WHERE k = $1 FOR UPDATE) AS v');
    const upsert = statement('t_upsert', 'INSERT INTO rows (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    // Fails in PostgreSQL for a zero divisor: a statement error in the middle of a group.
    const divide = statement('t_divide', 'INSERT INTO rows (k, v) VALUES ($1, 1 / $2::int)');

    interface Outcome {
      ok: boolean;
      value: unknown;
      /** How it settled: 'group' (committed with its group), 'alone' (rerun by itself), 'refused'. */
      via: 'group' | 'alone' | 'refused';
    }

    /** A member writing v = previous + add (or dividing by zero with `divideByZero`), settling its promise. */
    function member(
      key: string,
      add: number,
      opts: { refuse?: boolean; divideByZero?: boolean } = {},
    ): { m: GroupMember; done: Promise<Outcome> } {
      let settle!: (o: Outcome) => void;
      const done = new Promise<Outcome>((r) => (settle = r));
      let last = 0;
      const m: GroupMember = {
        key: ['', key],
        lock: lock([key]),
        decide(locked: QueryResult) {
          if (opts.refuse === true) throw new Error(`refused ${key}`);
          const current = (locked.rows[0] as { v: number | null }).v ?? 0;
          last = current + add;
          const params: Param[] = [key, last];
          return { steps: [opts.divideByZero === true ? divide([key, 0]) : upsert(params)] };
        },
        committed: () => settle({ ok: true, value: last, via: 'group' }),
        fail: (err) => settle({ ok: false, value: err, via: 'refused' }),
        alone: () => {
          inPipelinedTransaction(pool, async (tx) => {
            const [locked] = await tx.open([lock([key])]);
            const w = m.decide(locked!);
            await tx.commit(w.steps);
          }).then(
            () => settle({ ok: true, value: last, via: 'alone' }),
            (err: unknown) => settle({ ok: false, value: err, via: 'alone' }),
          );
        },
      };
      return { m, done };
    }

    it('pipelines several statements in one round trip and keeps prepared statements usable', async () => {
      const client = await pool.connect();
      try {
        const results = await pipeline(client, ['BEGIN', upsert(['p1', 1]), upsert(['p2', 2]), lock(['p1']), 'COMMIT']);
        assert.equal(results.length, 5);
        assert.deepEqual(results[3]!.rows, [{ v: 1 }]);
        // A failing pipeline: the statements after the error are skipped, COMMIT included.
        await assert.rejects(pipeline(client, ['BEGIN', upsert(['p3', 3]), divide(['p4', 0]), upsert(['p5', 5]), 'COMMIT']));
        await client.query('ROLLBACK');
        const after = await pipeline(client, [lock(['p3']), lock(['p5'])]);
        assert.deepEqual(after.map((r) => r.rows[0]), [{ v: null }, { v: null }]);
        // A value pg cannot send (a cyclic object) fails the pipeline before any message goes out; the
        // connection keeps working.
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await assert.rejects(pipeline(client, [upsert(['p6', 6]), { text: 'SELECT $1::text AS t', values: [cyclic as unknown as string] }]));
        assert.deepEqual((await pipeline(client, [lock(['p6']), { text: 'SELECT 1 AS one', values: [] }])).map((r) => r.rows[0]), [{ v: null }, { one: 1 }]);
      } finally {
        client.release();
      }
    });

    it('groups writes queued behind busy slots; a refusal fails alone; all others commit', async () => {
      const groups = createWriteGroups(pool, { slots: 1, limit: 64, transaction: { genericPlans: true } });
      // Submitted in one turn: the first group takes one write per key, the repeats wait for later groups.
      const members = Array.from({ length: 40 }, (_, i) => member(`g${i % 10}`, 1, { refuse: i === 13 }));
      for (const { m } of members) groups.submit(m);
      const outcomes = await Promise.all(members.map((x) => x.done));
      outcomes.forEach((o, i) => {
        if (i === 13) {
          assert.equal(o.ok, false);
          assert.equal(o.via, 'refused');
          assert.match(String(o.value), /refused g3/);
        } else assert.deepEqual([o.ok, o.via], [true, 'group'], `member ${i}: ${String(o.value)}`);
      });
      // Every key got each accepted increment exactly once (a repeated key waits for a later group).
      const { rows } = await pool.query<{ k: string; v: number }>("SELECT k, v FROM rows WHERE k LIKE 'g%' ORDER BY k");
      assert.deepEqual(rows, Array.from({ length: 10 }, (_, k) => ({ k: `g${k}`, v: k === 3 ? 3 : 4 })));
    });

    it('a statement error in a group: every member reruns alone, only the failing one fails, with its DatabaseError', async () => {
      const groups = createWriteGroups(pool, { slots: 1, limit: 64, transaction: {} });
      // Submitted in one turn: one group of twelve, whose seventh statement fails.
      const members = Array.from({ length: 12 }, (_, i) => member(`f${i}`, 10 + i, { divideByZero: i === 7 }));
      for (const { m } of members) groups.submit(m);
      const outcomes = await Promise.all(members.map((x) => x.done));
      outcomes.forEach((o, i) => {
        if (i === 7) {
          assert.equal(o.ok, false);
          assert.ok(o.value instanceof DatabaseError, String(o.value));
          assert.equal((o.value as DatabaseError).code, '22012');
        } else assert.equal(o.ok, true, `member ${i}: ${String(o.value)}`);
      });
      // The group reran its members alone; all but the failing one committed.
      assert.ok(outcomes.every((o) => o.via === 'alone'), 'the failed group was rerun member by member');
      const { rows } = await pool.query<{ k: string; v: number }>("SELECT k, v FROM rows WHERE k LIKE 'f%'");
      const stored = new Map(rows.map((r) => [r.k, r.v]));
      for (let i = 0; i < 12; i++) assert.equal(stored.get(`f${i}`), i === 7 ? undefined : 10 + i, `f${i}`);
      // The pool's connections still work, prepared statements included.
      const again = await pool.query(lock(['f0']));
      assert.deepEqual(again.rows, [{ v: 10 }]);
    });
  });
}
