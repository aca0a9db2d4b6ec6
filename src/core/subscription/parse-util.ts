// Small validators shared by the Subscription parsers (GS CIM 009 §5.2.12–5.2.15; guide §14.1): every
// failure is a 400 BadRequestData whose detail names the member.
import { badRequestData, type NgsiError } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { isValidName } from '../names.ts';

export const TITLE = 'Invalid subscription';

export function invalid(detail: string): NgsiError {
  return badRequestData(detail, TITLE);
}

export function fail(detail: string): never {
  throw invalid(detail);
}

export function optBoolean(obj: JsonObject, key: string, label: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(`${label} must be true or false`);
  return v as boolean;
}

export function optString(obj: JsonObject, key: string, label: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${label} must be a string`);
  return v as string;
}

/** A finite number > 0 (fractions allowed). */
export function optPositive(obj: JsonObject, key: string, label: string): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${label} must be a number`);
  if ((v as number) <= 0) fail(`${label} must be greater than 0 (got ${String(v)})`);
  return v as number;
}

/** A non-empty array of strings; `emptyDetail` when empty. */
export function stringArray(v: JsonValue, label: string): string[] {
  if (!Array.isArray(v)) fail(`${label} must be an array of strings`);
  const items = v as JsonValue[];
  if (items.length === 0) fail(`${label} must not be an empty array`);
  for (const item of items) if (typeof item !== 'string') fail(`${label} must contain only strings`);
  return items as string[];
}

/** A non-empty array of valid attribute names. */
export function nameArray(v: JsonValue, label: string): string[] {
  const items = stringArray(v, label);
  for (const item of items) if (!isValidName(item)) fail(`"${item}" in ${label} is not a valid attribute name`);
  return items;
}

/** A list given as an array of strings or as one comma-separated string. */
export function listOrText(v: JsonValue, label: string): string[] {
  if (typeof v === 'string') {
    const items = v.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) fail(`${label} has an empty item`);
    return items;
  }
  return stringArray(v, label);
}

export function objectMember(v: JsonValue, label: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${label} must be a JSON object`);
  return v as JsonObject;
}
