// Group commit (src/adapters/store-sqlite/group-commit.ts): writes of one event-loop turn share a transaction,
// each is undone alone when it throws, and every promise settles only after the commit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createGroupCommitter } from '../../src/adapters/store-sqlite/group-commit.ts';
import { createWalSyncer, type WalSyncer } from '../../src/adapters/store-sqlite/wal-sync.ts';

describe('SQLite group commit', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kend-group-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function open(name: string): { db: Database.Database; path: string } {
    const path = join(dir, name);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    return { db, path };
  }

  it('writes of one turn commit together; a throwing write is undone alone and rejects', async () => {
    const { db, path } = open('a.db');
    const settled: boolean[] = [];
    const group = createGroupCommitter(db, { settle: (ok) => settled.push(ok) });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const runs = Array.from({ length: 50 }, (_, k) =>
      group.run(() => {
        insert.run(k, `v${k}`);
        if (k === 7) throw new Error('refused');
        return k;
      }),
    );
    const outcomes = await Promise.allSettled(runs);
    assert.deepEqual(outcomes.filter((o) => o.status === 'rejected').length, 1);
    assert.equal((outcomes[7] as PromiseRejectedResult).reason.message, 'refused');
    assert.equal((outcomes[8] as PromiseFulfilledResult<number>).value, 8);
    // Another connection sees exactly the 49 kept rows: committed before the promises resolved.
    const other = new Database(path, { readonly: true });
    assert.deepEqual(other.prepare('SELECT count(*) AS n FROM t').get(), { n: 49 });
    assert.equal(other.prepare('SELECT 1 FROM t WHERE k = 7').get(), undefined);
    other.close();
    assert.deepEqual(settled, [false, true]);
    assert.equal(db.inTransaction, false);
    db.close();
  });

  it('a group larger than the limit is split over several transactions, in order', async () => {
    const { db } = open('b.db');
    let commits = 0;
    const group = createGroupCommitter(db, { limit: 10, settle: (ok) => ok && commits++ });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const results = await Promise.all(Array.from({ length: 35 }, (_, k) => group.run(() => Number(insert.run(k, 'x').lastInsertRowid))));
    assert.deepEqual(results, Array.from({ length: 35 }, (_, k) => k));
    assert.equal(commits, 4);
    db.close();
  });

  it('when BEGIN fails (another connection holds the write lock) every write of the group rejects', async () => {
    const { db, path } = open('c.db');
    db.pragma('busy_timeout = 0');
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const group = createGroupCommitter(db);
    const outcomes = await Promise.allSettled([group.run(() => 1), group.run(() => 2)]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    holder.exec('ROLLBACK');
    assert.equal(await group.run(() => 3), 3);
    holder.close();
    db.close();
  });

  /** A WAL syncer whose flushes the test completes or fails by hand. */
  function manualSyncer(): WalSyncer & { calls: number; finish(err?: Error): void } {
    let pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
    return {
      calls: 0,
      sync() {
        this.calls++;
        return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
      },
      finish(err) {
        const now = pending;
        pending = [];
        for (const p of now) {
          if (err === undefined) p.resolve();
          else p.reject(err);
        }
      },
      async close() {},
    };
  }
  const FULL = 2;

  it('with a WAL syncer a group commits without blocking on fsync and is acknowledged only after the flush', async () => {
    const { db, path } = open('d.db');
    db.pragma('synchronous = FULL');
    const syncer = manualSyncer();
    let syncDuringWork = -1;
    const group = createGroupCommitter(db, { walSync: syncer });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    let acknowledged = false;
    const write = group
      .run(() => {
        syncDuringWork = Number(db.pragma('synchronous', { simple: true }));
        insert.run(1, 'a');
        return 1;
      })
      .then((v) => {
        acknowledged = true;
        return v;
      });
    const other = new Database(path, { readonly: true });
    const committed = async (): Promise<void> => {
      for (let i = 0; i < 1000 && (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n !== 1; i++) await new Promise((r) => setImmediate(r));
    };
    await committed();
    assert.deepEqual(other.prepare('SELECT count(*) AS n FROM t').get(), { n: 1 }, 'committed');
    assert.equal(syncDuringWork, 1, 'the group ran with synchronous = NORMAL');
    assert.equal(db.pragma('synchronous', { simple: true }), FULL, 'the connection is back to FULL after the commit');
    assert.equal(syncer.calls, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(acknowledged, false, 'not acknowledged before the flush completed');
    syncer.finish();
    assert.equal(await write, 1);
    other.close();
    db.close();
  });

  it('a failed flush rejects every write of its group although they committed', async () => {
    const { db } = open('e.db');
    const syncer = manualSyncer();
    const group = createGroupCommitter(db, { walSync: syncer });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const writes = [group.run(() => insert.run(1, 'a')), group.run(() => insert.run(2, 'b'))];
    while (syncer.calls === 0) await new Promise((r) => setImmediate(r));
    syncer.finish(new Error('EIO'));
    const outcomes = await Promise.allSettled(writes);
    assert.deepEqual(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok')), ['EIO', 'EIO']);
    db.close();
  });

  it('createWalSyncer: none for an in-memory database; on a WAL file it flushes, and close waits for a running flush', async () => {
    const memory = new Database(':memory:');
    assert.equal(createWalSyncer(memory), null);
    memory.close();
    const { db } = open('f.db');
    db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(1, 'a');
    const syncer = createWalSyncer(db);
    assert.ok(syncer !== null);
    // Several callers during one flush share the next one; all resolve.
    await Promise.all([syncer.sync(), syncer.sync(), syncer.sync()]);
    const last = syncer.sync();
    await syncer.close();
    await last;
    db.close();
  });
});
