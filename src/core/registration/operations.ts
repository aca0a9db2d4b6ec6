// Operation names and operation groups a Context Source Registration advertises in `operations`
// (GS CIM 009 §4.20, §5.2.9; guide §16.2): the names, what each group stands for, and which are writes.

/** Entity, attribute, batch and temporal writes (§4.20): never allowed on an auxiliary registration. */
export const WRITE_OPERATIONS = [
  'createEntity', 'updateEntity', 'appendAttrs', 'updateAttrs', 'deleteAttrs', 'deleteEntity',
  'createBatch', 'upsertBatch', 'updateBatch', 'deleteBatch', 'mergeBatch',
  'upsertTemporal', 'appendAttrsTemporal', 'deleteAttrsTemporal', 'updateAttrInstanceTemporal',
  'deleteAttrInstanceTemporal', 'deleteTemporal',
  'mergeEntity', 'replaceEntity', 'replaceAttrs', 'purgeEntity',
] as const;

/** Context information consumption (§5.7): what an auxiliary registration may offer. */
export const READ_OPERATIONS = [
  'retrieveEntity', 'queryEntity', 'queryBatch', 'retrieveTemporal', 'queryTemporal',
  'retrieveEntityTypes', 'retrieveEntityTypeDetails', 'retrieveEntityTypeInfo',
  'retrieveAttrTypes', 'retrieveAttrTypeDetails', 'retrieveAttrTypeInfo',
] as const;

export const SUBSCRIPTION_OPERATIONS = [
  'createSubscription', 'updateSubscription', 'retrieveSubscription', 'querySubscription', 'deleteSubscription',
] as const;

export const ENTITY_MAP_OPERATIONS = ['queryEntityMap', 'createEntityMap', 'retrieveEntityMap', 'updateEntityMap', 'deleteEntityMap'] as const;

export const IDENTITY_OPERATIONS = ['retrieveContextSourceIdentity'] as const;

export type OperationName =
  | (typeof WRITE_OPERATIONS)[number]
  | (typeof READ_OPERATIONS)[number]
  | (typeof SUBSCRIPTION_OPERATIONS)[number]
  | (typeof ENTITY_MAP_OPERATIONS)[number]
  | (typeof IDENTITY_OPERATIONS)[number];

export const OPERATION_NAMES: ReadonlySet<string> = new Set<string>([
  ...WRITE_OPERATIONS, ...READ_OPERATIONS, ...SUBSCRIPTION_OPERATIONS, ...ENTITY_MAP_OPERATIONS, ...IDENTITY_OPERATIONS,
]);

/**
 * The operation groups (§4.20, Table 4.20-2 as the guide restates it). `associationOps` is named by the
 * guide without its members; Kend accepts the name and reads it as the subscription and identity
 * operations (how a source associates with a broker), never as writes.
 */
export const OPERATION_GROUPS: { readonly [group: string]: readonly OperationName[] } = {
  federationOps: [...READ_OPERATIONS, ...SUBSCRIPTION_OPERATIONS, ...ENTITY_MAP_OPERATIONS, ...IDENTITY_OPERATIONS],
  associationOps: [...SUBSCRIPTION_OPERATIONS, ...IDENTITY_OPERATIONS],
  updateOps: ['updateEntity', 'updateAttrs', 'replaceEntity', 'replaceAttrs'],
  retrieveOps: ['retrieveEntity', 'queryEntity'],
  redirectionOps: [
    'createEntity', 'updateEntity', 'appendAttrs', 'updateAttrs', 'deleteAttrs', 'deleteEntity',
    'mergeEntity', 'replaceEntity', 'replaceAttrs', 'purgeEntity',
    'retrieveEntity', 'queryEntity', 'retrieveEntityTypes', 'retrieveEntityTypeDetails', 'retrieveEntityTypeInfo',
    'retrieveAttrTypes', 'retrieveAttrTypeDetails', 'retrieveAttrTypeInfo',
    ...ENTITY_MAP_OPERATIONS, ...IDENTITY_OPERATIONS,
  ],
};

/** `operations` when a registration gives none (§5.2.9). */
export const DEFAULT_OPERATIONS: readonly string[] = ['federationOps'];

/** True for an operation name or a group name. */
export function isOperationOrGroup(name: string): boolean {
  return OPERATION_NAMES.has(name) || Object.hasOwn(OPERATION_GROUPS, name);
}

/** The individual operations `operations` (names and groups, as stored) stands for. */
export function expandOperations(operations: readonly string[] | undefined): ReadonlySet<OperationName> {
  const out = new Set<OperationName>();
  for (const name of operations ?? DEFAULT_OPERATIONS) {
    if (Object.hasOwn(OPERATION_GROUPS, name)) for (const op of OPERATION_GROUPS[name]!) out.add(op);
    else if (OPERATION_NAMES.has(name)) out.add(name as OperationName);
  }
  return out;
}

/** The write operations among `operations`, for the auxiliary-mode rule. */
export function writeOperationsIn(operations: readonly string[] | undefined): OperationName[] {
  const writes: ReadonlySet<string> = new Set(WRITE_OPERATIONS);
  return [...expandOperations(operations)].filter((op) => writes.has(op));
}
