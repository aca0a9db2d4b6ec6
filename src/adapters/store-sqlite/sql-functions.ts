// The deterministic SQL functions the compiled queries call (registered on every connection): what SQLite
// cannot compute exactly like the reference — RE2 matching (linear time, §4.9 `~=`, idPattern), UTF-16 and
// temporal sort keys, Unicode lower-casing of language tags, the exact geo predicate (§4.10), and the population
// standard deviation of temporal aggregations (§4.5.19), which SQLite lacks.
import type BetterSqlite3 from 'better-sqlite3';
import { RE2JS } from 're2js';
import { evaluateScopeQ } from '../../core/query/scope-q.ts';
import { createGeoPredicate } from './geo-index.ts';
import { dateKey, dateTimeKey, stringFromKey, stringKey, timeKey } from './value-keys.ts';

/** The names, for the compiler (never user text). */
export const SQL_FN = {
  /** kend_re(pattern, text, mode): mode 0 = q `~=` on raw text, 1 = q `~=` on a stringKey, 2 = idPattern. */
  regex: 'kend_re',
  strKey: 'kend_strkey',
  dtKey: 'kend_dtkey',
  dateKey: 'kend_datekey',
  timeKey: 'kend_timekey',
  lower: 'kend_lower',
  geo: 'kend_geo',
  /** kend_scope(scope, levels JSON, descendants): one scopeQ item on one scope (wildcard patterns). */
  scope: 'kend_scope',
  /** kend_stddev_pop(x): population standard deviation of the non-null x (§4.5.19 stddev); null for none. */
  stddevPop: 'kend_stddev_pop',
} as const;

/** Welford's running mean and sum of squared deviations: stable where sumsq/n − mean² cancels. */
interface Welford {
  n: number;
  mean: number;
  m2: number;
}

/** A bounded memo of compiled patterns: a pure function of the pattern text. */
function patternCache(): (source: string) => RE2JS {
  const cache = new Map<string, RE2JS>();
  return (source) => {
    let re = cache.get(source);
    if (re === undefined) {
      re = RE2JS.compile(source);
      if (cache.size > 1000) cache.clear();
      cache.set(source, re);
    }
    return re;
  };
}

const textOrNull = (f: (s: string) => string | null) => (v: unknown): string | null => (typeof v === 'string' ? f(v) : null);

export function registerSqlFunctions(db: BetterSqlite3.Database): void {
  const compile = patternCache();
  const opts = { deterministic: true, varargs: false } as const;
  db.function(SQL_FN.regex, opts, (pattern: unknown, text: unknown, mode: unknown) => {
    if (typeof pattern !== 'string' || typeof text !== 'string') return null;
    const re = compile(pattern);
    // The same calls as the reference: RE2JS test (q-eval.ts) and matcher().find() (entity-query.ts).
    if (mode === 2) return re.matcher(text).find() ? 1 : 0;
    return re.test(mode === 1 ? stringFromKey(text) : text) ? 1 : 0;
  });
  db.function(SQL_FN.strKey, opts, textOrNull(stringKey));
  db.function(SQL_FN.dtKey, opts, textOrNull(dateTimeKey));
  db.function(SQL_FN.dateKey, opts, textOrNull(dateKey));
  db.function(SQL_FN.timeKey, opts, textOrNull(timeKey));
  db.function(SQL_FN.lower, opts, textOrNull((s) => s.toLowerCase()));
  db.function(SQL_FN.scope, opts, (scope: unknown, levels: unknown, descendants: unknown) => {
    if (typeof scope !== 'string' || typeof levels !== 'string') return null;
    return evaluateScopeQ({ type: 'scope', levels: JSON.parse(levels) as string[], descendants: descendants === 1 }, [scope]) ? 1 : 0;
  });
  db.aggregate(SQL_FN.stddevPop, {
    deterministic: true,
    start: (): Welford => ({ n: 0, mean: 0, m2: 0 }),
    step: (acc: Welford, x: unknown): Welford => {
      if (typeof x !== 'number') return acc;
      acc.n += 1;
      const delta = x - acc.mean;
      acc.mean += delta / acc.n;
      acc.m2 += delta * (x - acc.mean);
      return acc;
    },
    result: (acc: Welford): number | null => (acc.n === 0 ? null : Math.sqrt(acc.m2 / acc.n)),
  });
  const geo = createGeoPredicate();
  db.function(SQL_FN.geo, opts, (geom: unknown, arg: unknown) => geo(geom, arg));
}
