// Opens one SQLite connection for the store: durability and concurrency pragmas, then schema migrations.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations } from './migrations.ts';

/** How long a connection waits for another connection's (or process's) write lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;

/** SQLite page cache per connection, in KiB. */
export const PAGE_CACHE_KIB = 65536;

function isMemoryPath(path: string): boolean {
  // '' is SQLite's private temporary database; both are per-connection and have no directory.
  return path === ':memory:' || path === '';
}

/** Opens (creating it and its parent directory when missing), configures and migrates the database. */
export function openDatabase(path: string): Database.Database {
  if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // First, so every later statement (including the WAL switch and the migrations) waits for a lock
    // held by another process instead of failing at once with SQLITE_BUSY.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!isMemoryPath(path)) {
      // WAL: readers never block the writer and the writer never blocks readers; persistent per file.
      db.pragma('journal_mode = WAL');
    }
    // FULL, not the usual WAL companion NORMAL: with NORMAL the WAL is only fsynced at checkpoints, so
    // the last commits can be lost on power loss or an OS crash even though the client got its 201/204.
    // FULL fsyncs the WAL at every commit: an acknowledged write is a durable write.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // 64 MiB of page cache instead of SQLite's 2 MiB: the indexes of 100,000 entities and their history
    // no longer fit in 2 MiB, and every write then reads index pages back from the OS (issue 8 profile).
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    applyMigrations(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
