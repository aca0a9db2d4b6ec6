// Routes of type and attribute discovery (GS CIM 009 §5.7.5–5.7.10, §6.25–6.28): computed from the store's
// usage rows of the tenant, names compacted with the request's context, identifiers as FQNs.
import { randomUUID } from 'node:crypto';
import { notFound, badRequestData } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { DiscoveryRow } from '../../core/query/discovery.ts';
import { isValidName } from '../../core/names.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { OperationRequest, RouteTable } from '../operation.ts';
import type { Federation } from '../../services/federation.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import { readRemoteAttributeInfo, readRemoteTypeInfo } from '../../core/federation/remote-discovery.ts';

export interface DiscoverySource {
  discover(tenant: TenantId): Promise<DiscoveryRow[]>;
}

const uniq = (xs: string[]): string[] => [...new Set(xs)];

export function discoveryRoutes(source: DiscoverySource, federation?: Federation): RouteTable {
  const rowsOf = (req: OperationRequest) => source.discover(req.tenant);
  /** Local rows plus those of the registered sources offering `op` (distributed discovery, §5.12), with their warnings. */
  async function allRows(req: OperationRequest, op: 'retrieveEntityTypes' | 'retrieveAttrTypes'): Promise<{ rows: DiscoveryRow[]; headers: Record<string, string> }> {
    const local = req.query.bool('local');
    const [own, remote] = await Promise.all([rowsOf(req), federation === undefined ? null : federation.discoveryRows(forwardContext(req, local), op)]);
    if (remote === null) return { rows: own, headers: {} };
    return { rows: [...own, ...remote.value], headers: warningHeaders(remote.warnings) };
  }
  const compact = (req: OperationRequest) => (iri: string) => req.context.terms.compactIri(iri);

  return {
    '/types': {
      GET: {
        params: ['details', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const wantDetails = req.query.bool('details');
          const { rows, headers } = await allRows(req, 'retrieveEntityTypes');
          const c = compact(req);
          const types = uniq(rows.map((r) => r.type));
          if (!wantDetails) {
            const body: JsonObject = { id: `urn:ngsi-ld:EntityTypeList:${randomUUID()}`, type: 'EntityTypeList', typeList: types.map(c) };
            return { status: 200, headers, body, context: 'object' };
          }
          const body: JsonValue = types.map((t) => ({
            id: t,
            type: 'EntityType',
            typeName: c(t),
            attributeNames: uniq(rows.filter((r) => r.type === t && r.attr !== null).map((r) => r.attr!)).map(c),
          }));
          return { status: 200, headers, body, context: 'each' };
        },
      },
    },
    '/types/:type': {
      GET: {
        params: ['local'],
        offers: 'ngsi',
        async handle(req) {
          const local = req.query.bool('local');
          const name = req.path.type!;
          if (!isValidName(name)) throw badRequestData(`"${name}" is not a valid type name`, 'Invalid type');
          const fqn = req.context.terms.expandTerm(name);
          const [rows, remote] = await Promise.all([
            rowsOf(req).then((all) => all.filter((r) => r.type === fqn)),
            federation === undefined ? null : federation.details(forwardContext(req, local), { op: 'retrieveEntityTypeInfo', type: fqn }, (b) => readRemoteTypeInfo(b, req.context.terms)),
          ]);
          const headers = remote === null ? {} : warningHeaders(remote.warnings);
          const count = rows.find((r) => r.attr === null);
          const infos = remote?.value ?? [];
          if (count === undefined && infos.length === 0) {
            const err = notFound(`No entity of type ${name}`, 'Type not found');
            return { status: 404, headers, body: err.toProblem() as unknown as JsonObject, context: 'none' };
          }
          const c = compact(req);
          // Sources' details merge in: counts add up (an entity several parties hold counts once per party), kinds unite.
          const kinds = new Map<string, string[]>();
          for (const r of rows) if (r.attr !== null) kinds.set(r.attr, uniq([...(kinds.get(r.attr) ?? []), ...(r.kind === null ? [] : [r.kind])]));
          for (const info of infos) for (const d of info.attributeDetails) kinds.set(d.attr, uniq([...(kinds.get(d.attr) ?? []), ...d.kinds]));
          const body: JsonObject = {
            id: fqn,
            type: 'EntityTypeInfo',
            typeName: c(fqn),
            entityCount: (count?.entities ?? 0) + infos.reduce((n, i) => n + i.entityCount, 0),
            attributeDetails: [...kinds].map(([a, k]) => ({ id: a, type: 'Attribute', attributeName: c(a), attributeTypes: k })),
          };
          return { status: 200, headers, body, context: 'object' };
        },
      },
    },
    '/attributes': {
      GET: {
        params: ['details', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const wantDetails = req.query.bool('details');
          const all = await allRows(req, 'retrieveAttrTypes');
          const headers = all.headers;
          const rows = all.rows.filter((r) => r.attr !== null);
          const c = compact(req);
          const attrs = uniq(rows.map((r) => r.attr!)).sort();
          if (!wantDetails) {
            const body: JsonObject = { id: `urn:ngsi-ld:AttributeList:${randomUUID()}`, type: 'AttributeList', attributeList: attrs.map(c) };
            return { status: 200, headers, body, context: 'object' };
          }
          const body: JsonValue = attrs.map((a) => ({
            id: a,
            type: 'Attribute',
            attributeName: c(a),
            typeNames: uniq(rows.filter((r) => r.attr === a).map((r) => r.type)).map(c),
          }));
          return { status: 200, headers, body, context: 'each' };
        },
      },
    },
    '/attributes/:attrName': {
      GET: {
        params: ['local'],
        offers: 'ngsi',
        async handle(req) {
          const local = req.query.bool('local');
          const name = req.path.attrName!;
          if (!isValidName(name)) throw badRequestData(`"${name}" is not a valid attribute name`, 'Invalid attribute name');
          const fqn = req.context.terms.expandTerm(name);
          const [rows, remote] = await Promise.all([
            rowsOf(req).then((all) => all.filter((r) => r.attr === fqn)),
            federation === undefined ? null : federation.details(forwardContext(req, local), { op: 'retrieveAttrTypeInfo', attr: fqn }, (b) => readRemoteAttributeInfo(b, req.context.terms)),
          ]);
          const headers = remote === null ? {} : warningHeaders(remote.warnings);
          const infos = remote?.value ?? [];
          if (rows.length === 0 && infos.length === 0) {
            const err = notFound(`No entity has the attribute ${name}`, 'Attribute not found');
            return { status: 404, headers, body: err.toProblem() as unknown as JsonObject, context: 'none' };
          }
          const c = compact(req);
          const body: JsonObject = {
            id: fqn,
            type: 'Attribute',
            attributeName: c(fqn),
            attributeCount: rows.reduce((n, r) => n + r.instances, 0) + infos.reduce((n, i) => n + i.attributeCount, 0),
            attributeTypes: uniq([...rows.map((r) => r.kind).filter((k): k is NonNullable<typeof k> => k !== null), ...infos.flatMap((i) => i.attributeTypes)]),
            typeNames: uniq([...rows.map((r) => r.type), ...infos.flatMap((i) => i.typeNames)]).map(c),
          };
          return { status: 200, headers, body, context: 'object' };
        },
      },
    },
  };
}
