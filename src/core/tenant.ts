// Tenant identifiers (GS CIM 009 §4.14): validated once, then carried as a branded type.
import { badRequestData } from './errors.ts';

declare const tenantBrand: unique symbol;
export type TenantId = string & { readonly [tenantBrand]: true };

/** The tenant used when a request carries no NGSILD-Tenant header. It always exists. */
export const DEFAULT_TENANT = '' as TenantId;

const TENANT_NAME = /^[A-Za-z0-9_-]{1,50}$/;

/** Parses an NGSILD-Tenant header value; undefined means the default tenant. */
export function parseTenant(header: string | undefined): TenantId {
  if (header === undefined) return DEFAULT_TENANT;
  if (!TENANT_NAME.test(header)) {
    throw badRequestData(
      'NGSILD-Tenant must be 1 to 50 characters of letters, digits, "_" or "-"',
      'Invalid tenant name',
    );
  }
  return header as TenantId;
}
