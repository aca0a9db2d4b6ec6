// Durability of group commits without blocking the event loop (ADR 0001, second amendment).
//
// With `synchronous = FULL` SQLite fsyncs the WAL inside COMMIT, on the thread that called it: Node's one
// JavaScript thread, which parses no request while the disk flushes. A group transaction instead commits
// with `synchronous = NORMAL` (frames written to the WAL, no fsync) and then fsyncs the WAL file on libuv's
// thread pool; its writes are acknowledged only when that fsync has completed. An acknowledged write is
// therefore exactly as durable as with FULL: its frames are on the disk before its answer leaves.
//
// Why this is safe with SQLite's WAL: NORMAL changes only when the WAL is synced, never the order of
// writes; a checkpoint (run by SQLite with NORMAL or FULL alike) syncs the WAL before copying it into the
// database file and syncs the database file before the WAL may be restarted, so frames of a commit are
// never overwritten before they are durable somewhere. fsync on a second descriptor of the same file
// flushes the file's pages whoever wrote them (POSIX: the file, not the descriptor).
// What NORMAL does allow: another connection may read a commit in the ≈0.2 ms before its fsync ends; on a
// power loss in that window the write is lost, and it was never acknowledged.
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

export interface WalSyncer {
  /** Resolves once every WAL frame written before the call is on disk. */
  sync(): Promise<void>;
  /** Waits for a running fsync (its descriptor must not close under it), then closes the descriptor. */
  close(): Promise<void>;
}

/**
 * The syncer of `db`'s WAL file, or null when the database has none (in-memory, or not in WAL mode):
 * then COMMIT's own sync is the only one and group commits keep `synchronous` as it is.
 */
export function createWalSyncer(db: BetterSqlite3.Database): WalSyncer | null {
  if (db.memory) return null;
  const mode = db.pragma('journal_mode', { simple: true });
  if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') return null;
  const walPath = `${db.name}-wal`;
  let fd: number | null = null;
  // One fsync at a time: callers that arrive while one runs wait for the next, which covers all of them
  // (an fsync started before a caller's frames were written does not cover them).
  let running = false;
  let waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let idle: (() => void)[] = [];

  function start(): void {
    const batch = waiting;
    waiting = [];
    running = true;
    try {
      // Opened lazily: the WAL file exists once the first transaction wrote to it. SQLite keeps the same
      // file (same inode) while any connection is open, so one descriptor serves the store's lifetime.
      if (fd === null) {
        fd = openSync(walPath, 'r');
        // The WAL's directory entry too, once: a file created since the last directory sync could vanish
        // with a power loss however well its contents were synced.
        const dir = openSync(dirname(walPath), 'r');
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      }
    } catch (err) {
      running = false;
      for (const w of batch) w.reject(err);
      return;
    }
    fdatasync(fd, (err) => {
      running = false;
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (waiting.length > 0) start();
      else {
        for (const done of idle) done();
        idle = [];
      }
    });
  }

  return {
    sync() {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (!running) start();
      });
    },
    async close() {
      if (running) await new Promise<void>((resolve) => idle.push(resolve));
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
