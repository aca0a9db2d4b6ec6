// Parses and validates configuration from the environment: the only reader of process.env.
import { CONFIG_FIELDS, type KendConfig } from './schema.ts';

// The shape of an ISO 8601 duration with at least one non-zero-length component (parsed for use by
// core/temporal/duration.ts; config imports nothing outside config).
const ISO_DURATION = /^P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?!$)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Builds a frozen config from an environment map; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Readonly<KendConfig> {
  const out: Partial<Record<keyof KendConfig, string | number | boolean>> = {};
  for (const field of CONFIG_FIELDS) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') {
      out[field.key] = typeof field.default === 'function' ? field.default(out as Partial<KendConfig>) : field.default;
      continue;
    }
    switch (field.kind) {
      case 'int': {
        if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(field.env, `must be an integer, got "${raw}"`);
        const n = Number(raw.trim());
        if (field.min !== undefined && n < field.min) throw new ConfigError(field.env, `must be ≥ ${field.min}, got ${n}`);
        if (field.max !== undefined && n > field.max) throw new ConfigError(field.env, `must be ≤ ${field.max}, got ${n}`);
        out[field.key] = n;
        break;
      }
      case 'enum':
        if (!field.values?.includes(raw)) {
          throw new ConfigError(field.env, `must be one of ${field.values?.join(', ')}, got "${raw}"`);
        }
        out[field.key] = raw;
        break;
      case 'url':
        try {
          new URL(raw);
        } catch {
          throw new ConfigError(field.env, `must be an absolute URL, got "${raw}"`);
        }
        out[field.key] = raw.replace(/\/+$/, '');
        break;
      case 'string':
        out[field.key] = raw;
        break;
      case 'bool': {
        const v = raw.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) out[field.key] = true;
        else if (['false', '0', 'no', 'off'].includes(v)) out[field.key] = false;
        else throw new ConfigError(field.env, `must be true or false, got "${raw}"`);
        break;
      }
      case 'duration':
        if (!ISO_DURATION.test(raw.trim())) throw new ConfigError(field.env, `must be an ISO 8601 duration such as P30D, PT12H or P1Y, got "${raw}"`);
        out[field.key] = raw.trim();
        break;
    }
  }
  const config = out as unknown as KendConfig;
  if (!/^sqlite:/.test(config.databaseUrl) && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('KEND_DATABASE_URL', 'must be sqlite:<path>, sqlite::memory: or postgres://… (postgresql://…)');
  }
  if (config.defaultPageSize > config.maxPageSize) {
    throw new ConfigError('KEND_DEFAULT_PAGE_SIZE', `must not exceed KEND_MAX_PAGE_SIZE (${config.maxPageSize})`);
  }
  return Object.freeze(config);
}

/** The config as printed by --print-config: secrets masked. */
export function printableConfig(config: KendConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const field of CONFIG_FIELDS) {
    const v = config[field.key];
    out[field.env] = field.secret ? String(v).replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@') : v;
  }
  return out;
}
