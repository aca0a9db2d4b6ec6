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
          req.query.bool('local');
          const name = req.path.type!;
          if (!isValidName(name)) throw badRequestData(`"${name}" is not a valid type name`, 'Invalid type');
          const fqn = req.context.terms.expandTerm(name);
          const rows = (await rowsOf(req)).filter((r) => r.type === fqn);
          const count = rows.find((r) => r.attr === null);
          if (count === undefined) throw notFound(`No entity of type ${name}`, 'Type not found');
          const c = compact(req);
          const attrs = uniq(rows.filter((r) => r.attr !== null).map((r) => r.attr!));
          const body: JsonObject = {
            id: fqn,
            type: 'EntityTypeInfo',
            typeName: c(fqn),
            entityCount: count.entities,
            attributeDetails: attrs.map((a) => ({
              id: a,
              type: 'Attribute',
              attributeName: c(a),
              attributeTypes: uniq(rows.filter((r) => r.attr === a).map((r) => r.kind!)),
            })),
          };
          return { status: 200, body, context: 'object' };
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
          req.query.bool('local');
          const name = req.path.attrName!;
          if (!isValidName(name)) throw badRequestData(`"${name}" is not a valid attribute name`, 'Invalid attribute name');
          const fqn = req.context.terms.expandTerm(name);
          const rows = (await rowsOf(req)).filter((r) => r.attr === fqn);
          if (rows.length === 0) throw notFound(`No entity has the attribute ${name}`, 'Attribute not found');
          const c = compact(req);
          const body: JsonObject = {
            id: fqn,
            type: 'Attribute',
            attributeName: c(fqn),
            attributeCount: rows.reduce((n, r) => n + r.instances, 0),
            attributeTypes: uniq(rows.map((r) => r.kind!)),
            typeNames: uniq(rows.map((r) => r.type)).map(c),
          };
          return { status: 200, body, context: 'object' };
        },
      },
    },
  };
}
