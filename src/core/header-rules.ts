// What a client-supplied HTTP header may be (RFC 9110 §5.1, §5.5): shared by notification receiverInfo
// (GS CIM 009 §5.2.15) and registration contextSourceInfo (§5.2.9), which both become outbound headers.

/** RFC 9110 field-name token: what an HTTP header name may be. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Field values: no control characters other than horizontal tab (no header injection). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
export const HEADER_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;

/** Headers that frame or route the HTTP message; a client-given pair must not set them. */
export const FRAMING_HEADERS: ReadonlySet<string> = new Set([
  'content-length', 'transfer-encoding', 'host', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection', 'expect',
]);
