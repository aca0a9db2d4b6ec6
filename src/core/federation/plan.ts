// Which registered context sources a distributed operation goes to, and how the forwarded request looks
// (GS CIM 009 §4.3.6, §5.12, §6.3.17, §6.3.18; guide §16.3): the registration must offer the operation, not
// be cooling down after a failure, and be matched by the request; attributes are narrowed to what it
// covers; the registration's tenant, contextSourceInfo headers, the client's Link and our Via travel along.
// Pure.
import { dateTimeToMillis } from '../datetime.ts';
import { NgsiError } from '../errors.ts';
import { isJsonObject } from '../json.ts';
import type { ForwardingStatus, InfoView, RegistrationView } from '../registration/model.ts';
import { attributeNamesOf } from '../registration/model.ts';
import { expandOperations, type OperationName } from '../registration/operations.ts';

export interface SourcePlan {
  view: RegistrationView;
  endpoint: string;
  /** Attributes (FQNs) to ask the source for; undefined = all it has. */
  attrs?: string[];
  timeoutMs: number;
  localOnly: boolean;
  tenant?: string;
}

/** A live registration matched by the request, with the positions of its matching information elements. */
export interface Candidate {
  view: RegistrationView;
  forwarding: ForwardingStatus;
  infos: number[];
}

function management(view: RegistrationView): { timeout?: number; cooldown?: number; localOnly?: boolean } {
  const m = view.payload.management;
  if (!isJsonObject(m)) return {};
  return {
    ...(typeof m.timeout === 'number' ? { timeout: m.timeout } : {}),
    ...(typeof m.cooldown === 'number' ? { cooldown: m.cooldown } : {}),
    ...(typeof m.localOnly === 'boolean' ? { localOnly: m.localOnly } : {}),
  };
}

/** A registration whose last use failed less than `management.cooldown` ms ago is left out (§5.2.34). */
export function inCooldown(view: RegistrationView, forwarding: ForwardingStatus, nowMs: number): boolean {
  const cooldown = management(view).cooldown;
  if (cooldown === undefined || forwarding.status !== 'failed' || forwarding.lastFailure === undefined) return false;
  return nowMs - dateTimeToMillis(forwarding.lastFailure) < cooldown;
}

/** Union of the attribute names the matching information elements list; undefined when one lists none. */
function coveredAttrs(infos: readonly InfoView[]): string[] | undefined {
  const out = new Set<string>();
  for (const info of infos) {
    const names = attributeNamesOf(info);
    if (names === undefined) return undefined;
    for (const n of names) out.add(n);
  }
  return [...out];
}

export interface PlanOptions {
  nowMs: number;
  defaultTimeoutMs: number;
  /** The request's Via already lists this broker: it came back around a loop of registrations. */
  looping?: boolean;
}

/** 508 Loop Detected (§6.3.17, §6.3.18): a looping request that only a remote source could serve. */
export function loopDetected(view: RegistrationView): NgsiError {
  return new NgsiError(
    'LoopDetected',
    `The request already passed through this broker (Via) and registration ${view.id} (${view.mode}) holds the data remotely: forwarding it again would loop`,
  );
}

/**
 * The sources to ask, in registration order. `operations`: the request is served by any of them (e.g.
 * queryEntity or queryBatch). `requestedAttrs` (FQNs) narrow what is asked; a source covering none of them
 * is left out. A looping request (opts.looping) is asked of nobody: the inclusive and auxiliary
 * registrations drop out (the operation completes locally) and an exclusive or redirect one that would
 * serve it makes it a 508 Loop Detected — its data exists only remotely, on the path the request came by.
 */
export function planSources(
  candidates: readonly Candidate[],
  operations: readonly OperationName[],
  requestedAttrs: readonly string[] | undefined,
  opts: PlanOptions,
): SourcePlan[] {
  const plans: SourcePlan[] = [];
  for (const c of candidates) {
    const offered = expandOperations(c.view.operations);
    if (!operations.some((op) => offered.has(op))) continue;
    if (!opts.looping && inCooldown(c.view, c.forwarding, opts.nowMs)) continue;
    const covered = coveredAttrs(c.infos.map((i) => c.view.information[i]!).filter((i) => i !== undefined));
    let attrs: string[] | undefined = covered;
    if (requestedAttrs !== undefined) {
      attrs = covered === undefined ? [...requestedAttrs] : requestedAttrs.filter((a) => covered.includes(a));
      if (attrs.length === 0) continue;
    }
    const m = management(c.view);
    const plan: SourcePlan = {
      view: c.view,
      endpoint: String(c.view.payload.endpoint),
      timeoutMs: m.timeout ?? opts.defaultTimeoutMs,
      localOnly: m.localOnly === true,
    };
    if (attrs !== undefined) plan.attrs = attrs;
    if (typeof c.view.payload.tenant === 'string') plan.tenant = c.view.payload.tenant;
    plans.push(plan);
  }
  if (opts.looping === true) {
    const remoteOnly = plans.find((p) => p.view.mode === 'exclusive' || p.view.mode === 'redirect');
    if (remoteOnly !== undefined) throw loopDetected(remoteOnly.view);
    return [];
  }
  return plans;
}

/** The NGSI-LD API root of a source: its endpoint, with `/ngsi-ld/v1` added unless already there. */
export function apiRoot(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/ngsi-ld/v1') ? base : `${base}/ngsi-ld/v1`;
}

/** `?k=v&…` with every name and value percent-encoded, or '' for none. */
export function queryString(entries: readonly (readonly [string, string])[]): string {
  const s = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return s === '' ? '' : `?${s}`;
}

/** True when a `Via` header value lists this broker (RFC 7230 §5.7.1: `1.1 <pseudonym>` entries). */
export function viaContains(via: string | undefined, brokerId: string): boolean {
  if (via === undefined) return false;
  return via.split(',').some((entry) => entry.trim().split(/\s+/)[1] === brokerId);
}

/** The Via value of a forwarded request: the incoming one with this broker appended. */
export function viaFor(incoming: string | undefined, brokerId: string): string {
  const own = `1.1 ${brokerId}`;
  return incoming === undefined || incoming.trim() === '' ? own : `${incoming}, ${own}`;
}

export interface IncomingHeaders {
  via?: string;
  /** The client's JSON-LD context Link header, passed on so the source reads names as the client meant them. */
  link?: string;
  /** Any header of the triggering request (lower-case names), for contextSourceInfo `urn:ngsi-ld:request`. */
  get(name: string): string | undefined;
}

/** Headers of a forwarded request (guide §16.3): tenant of the registration, contextSourceInfo, Link, Via. */
export function forwardHeaders(plan: SourcePlan, incoming: IncomingHeaders, brokerId: string): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const info = plan.view.payload.contextSourceInfo;
  let jsonldContext: string | undefined;
  for (const pair of Array.isArray(info) ? info : []) {
    if (!isJsonObject(pair) || typeof pair.key !== 'string' || typeof pair.value !== 'string') continue;
    if (pair.key === 'jsonldContext') jsonldContext = pair.value;
    if (pair.key === 'accept' || pair.key === 'contentType' || pair.key === 'jsonldContext' || pair.key === 'ngsildConformance') continue;
    const value = pair.value === 'urn:ngsi-ld:request' ? incoming.get(pair.key.toLowerCase()) : pair.value;
    if (value !== undefined) headers[pair.key.toLowerCase()] = value;
  }
  if (incoming.link !== undefined) headers.link = incoming.link;
  else if (jsonldContext !== undefined) headers.link = `<${jsonldContext}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
  if (plan.tenant !== undefined) headers['ngsild-tenant'] = plan.tenant;
  headers.via = viaFor(incoming.via, brokerId);
  return headers;
}
