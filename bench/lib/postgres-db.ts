// A fresh PostgreSQL database for one benchmark run (`kend_bench_<random>`), created on the server named by
// --postgres-url and dropped at the end. Kend's migrations create PostGIS and the schema at start.
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  // DDL takes no bound parameters: the name is generated here from [a-z0-9_] and quoted all the same.
  const name = `kend_bench_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
  };
}
