// Several statements in one round trip on one pg connection (PostgreSQL's extended-protocol pipelining: each
// statement's Parse/Bind/Describe/Execute back to back, one Sync at the end). node-postgres sends one statement
// per round trip; on loopback each round trip costs a send syscall that runs PostgreSQL's wake-up (a third of
// Kend's CPU in a PATCH profile on PostgreSQL: 5 round trips per write) plus a PostgreSQL command cycle.
// Built on pg's public Submittable hook (as pg-cursor is), pg.Result for row parsing and pg's own value mapper.
import pg from 'pg';
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Param } from './statements.ts';

/** The part of pg's Connection a pipeline drives (pg/lib/connection.js). */
interface WireConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(msg: { text: string; name: string; types: number[] }): void;
  bind(msg: { portal: string; statement: string; values: readonly unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal: string; rows: number }): void;
  sync(): void;
}

/** pg's row parser (pg/lib/result.js); the fields are its wire messages. */
interface ResultBuilder {
  addFields(fields: unknown): void;
  parseRow(fields: unknown): QueryResultRow;
  addRow(row: QueryResultRow): void;
  addCommandComplete(msg: unknown): void;
  rows: QueryResultRow[];
  rowCount: number | null;
  command: string;
  fields: QueryResult['fields'];
  oid: number;
}

const pgInternals = pg as unknown as {
  Result: new (rowMode?: string) => ResultBuilder;
  utils: { prepareValue: (v: unknown) => unknown };
};

/**
 * A pipeline failed. `unsure` names the statements this pipeline asked PostgreSQL to prepare whose fate is
 * unknown (the error may have come before or after their Parse): the connection must then be discarded, or
 * a later Parse of the same name would fail.
 */
export class PipelineError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly unsure: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'PipelineError';
  }
}

export type Step = QueryConfig<Param[]> | string;

class Pipeline {
  private readonly results: ResultBuilder[] = [];
  private current: ResultBuilder;
  private readonly firstParses: { name: string; text: string }[] = [];
  private connection: WireConnection | undefined;
  private rowError: unknown = undefined;
  readonly done: Promise<QueryResult[]>;
  private resolve!: (results: QueryResult[]) => void;
  private reject!: (err: unknown) => void;

  constructor(private readonly steps: readonly Step[]) {
    this.current = new pgInternals.Result();
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /**
   * Sends the whole pipeline. Values are mapped first: a value pg cannot send is returned as the pipeline's
   * error (pg then calls handleError) before any message went out, so no half-sent pipeline is left waiting.
   */
  submit(connection: WireConnection): Error | undefined {
    this.connection = connection;
    const configs = this.steps.map((step) => (typeof step === 'string' ? { text: step, name: undefined, values: [] as Param[] } : step));
    let values: unknown[][];
    try {
      values = configs.map((config) => (config.values ?? []).map((v) => pgInternals.utils.prepareValue(v)));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    connection.stream.cork?.();
    try {
      configs.forEach((config, i) => {
        const name = config.name ?? '';
        if (name === '') connection.parse({ text: config.text, name: '', types: [] });
        else if (connection.parsedStatements[name] === undefined && connection.submittedNamedStatements[name] === undefined) {
          connection.parse({ text: config.text, name, types: [] });
          connection.submittedNamedStatements[name] = config.text;
          this.firstParses.push({ name, text: config.text });
        }
        connection.bind({ portal: '', statement: name, values: values[i]!, valueMapper: (v) => v });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return undefined;
  }

  handleRowDescription(msg: { fields: unknown }): void {
    this.current.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown }): void {
    // A throw here would escape into pg's socket handler; kept and reported when the pipeline ends.
    if (this.rowError !== undefined) return;
    try {
      this.current.addRow(this.current.parseRow(msg.fields));
    } catch (err) {
      this.rowError = err;
    }
  }

  handleCommandComplete(msg: unknown): void {
    this.current.addCommandComplete(msg);
    this.results.push(this.current);
    this.current = new pgInternals.Result();
  }

  handleEmptyQuery(): void {
    this.results.push(this.current);
    this.current = new pgInternals.Result();
  }

  /**
   * Final: PostgreSQL skips the rest up to the Sync; pg then gives the ReadyForQuery to nobody. Also called
   * by pg for an error submit returned, and for a broken connection.
   */
  handleError(err: unknown): void {
    for (const { name } of this.firstParses) delete this.connection?.submittedNamedStatements[name];
    this.reject(new PipelineError(err, this.firstParses.length > 0));
  }

  handleReadyForQuery(): void {
    for (const { name, text } of this.firstParses) {
      if (this.connection !== undefined) {
        this.connection.parsedStatements[name] = text;
        delete this.connection.submittedNamedStatements[name];
      }
    }
    if (this.rowError !== undefined) {
      this.reject(new PipelineError(this.rowError, false));
      return;
    }
    if (this.results.length !== this.steps.length) {
      this.reject(new PipelineError(new Error(`pipeline: ${this.results.length} of ${this.steps.length} results`), true));
      return;
    }
    this.resolve(this.results as unknown as QueryResult[]);
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

/**
 * Runs the steps in order in one round trip and returns one result per step. The first failing step ends
 * the pipeline (PostgreSQL skips the rest); the promise then rejects with a PipelineError whose `cause` is
 * pg's DatabaseError. Named steps are prepared once per connection, as client.query does.
 */
export function pipeline(client: PoolClient, steps: readonly Step[]): Promise<QueryResult[]> {
  const p = new Pipeline(steps);
  (client as unknown as { query(s: { submit(c: WireConnection): Error | undefined }): unknown }).query(p);
  return p.done;
}
