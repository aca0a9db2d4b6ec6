// Validation of identifiers taken from the URL path (GS CIM 009 §6.3): checked before any lookup.
import { badRequestData } from '../core/errors.ts';
import { isAbsoluteUri, isValidName } from '../core/names.ts';

export function checkEntityId(id: string | undefined): string {
  if (id === undefined || id === '') throw badRequestData('The entity id in the path is empty', 'Missing entity id');
  if (!isAbsoluteUri(id)) throw badRequestData(`The entity id "${id}" is not an absolute URI`, 'Invalid entity id');
  return id;
}

export function checkAttrName(name: string | undefined): string {
  if (name === undefined || name === '') throw badRequestData('The attribute name in the path is empty', 'Missing attribute name');
  if (!isValidName(name)) throw badRequestData(`"${name}" is not a valid attribute name`, 'Invalid attribute name');
  return name;
}

/** Location header value for a created resource: the id kept readable, but safe as one path segment. */
export function locationOf(collection: string, id: string): string {
  return `${collection}/${encodeURIComponent(id).replace(/%3A/gi, ':')}`;
}
