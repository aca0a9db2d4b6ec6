// The NGSILD-Warning header of distributed operations (GS CIM 009 §6.3.17; guide §2.3, §16.3): 299 when a
// context source failed or answered an error status, 111 when its payload was unusable (never merged).
export type WarningCode = 111 | 299;

export interface SourceWarning {
  code: WarningCode;
  registrationId: string;
  endpoint: string;
  reason: string;
}

/** One warning value in RFC 7234 form with the "-" pseudonym: `299 - "text"`. */
export function formatWarning(w: SourceWarning): string {
  const text = `Context source ${w.registrationId} (${w.endpoint}): ${w.reason}`.replace(/[\\"]/g, "'").replace(/\p{Cc}/gu, ' ');
  return `${w.code} - "${text}"`;
}

/** The header value for a list of warnings (comma-separated, as HTTP list headers are), or undefined. */
export function warningHeader(warnings: readonly SourceWarning[]): string | undefined {
  return warnings.length === 0 ? undefined : warnings.map(formatWarning).join(', ');
}
