// A stored Context Source Registration as GET /csourceRegistrations answers it (GS CIM 009 §5.10.1, §5.10.2,
// §5.2.9; guide §16.1, §21 item 23): the registration's members with names compacted with the request's
// @context, plus the defaults `mode` and `operations`, the forwarding status members once the registration
// has been used, and createdAt/modifiedAt only with sysAttrs.
import type { JsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { DEFAULT_MODE, type ForwardingStatus } from './model.ts';
import { DEFAULT_OPERATIONS } from './operations.ts';
import { compactRegistration } from './parse.ts';

/** What rendering needs of a stored registration; the store port's StoredRegistration has this shape. */
export interface RegistrationRecord {
  id: string;
  payload: JsonObject;
  createdAt: string;
  modifiedAt: string;
  forwarding: ForwardingStatus;
}

export function renderRegistration(stored: RegistrationRecord, terms: TermMap, opts: { sysAttrs: boolean }): JsonObject {
  const { id: _id, type, ...rest } = compactRegistration(stored.payload, terms);
  const out: JsonObject = { id: stored.id, type: type ?? 'ContextSourceRegistration', ...rest };
  if (out.mode === undefined) out.mode = DEFAULT_MODE;
  if (out.operations === undefined) out.operations = [...DEFAULT_OPERATIONS];
  const f = stored.forwarding;
  if (f.timesSent > 0) {
    if (f.status !== undefined) out.status = f.status;
    out.timesSent = f.timesSent;
    out.timesFailed = f.timesFailed;
    if (f.lastSuccess !== undefined) out.lastSuccess = f.lastSuccess;
    if (f.lastFailure !== undefined) out.lastFailure = f.lastFailure;
  }
  if (opts.sysAttrs) {
    out.createdAt = stored.createdAt;
    out.modifiedAt = stored.modifiedAt;
  }
  return out;
}
