// Order-preserving text keys for PostgreSQL: JavaScript strings (UTF-16) mapped to PostgreSQL text so that
// byte order under COLLATE "C" equals JavaScript's `<` (GS CIM 009 §4.9 string comparison; guide §8.3).
//
// Why: PostgreSQL text cannot hold U+0000 (jsonb rejects "\u0000" too) nor lone surrogates, and COLLATE "C"
// orders by code point, whereas JavaScript orders by UTF-16 code unit — the two disagree exactly when a
// supplementary-plane character (surrogates D800–DFFF) meets one of U+E000–U+FFFF. The key maps each UTF-16
// code unit on its own:
//   0x0000 → U+0001 U+0001        0x0001 → U+0001 U+0002        0x0002–0xD7FF → itself
//   0xD800–0xFFFF (surrogates and U+E000–U+FFFF) → U+10000 + (unit − 0xD800), one code point each
// The images are prefix-free and increasing in the unit, so the map is injective and keeps lexicographic
// order (a proper prefix stays a proper prefix). Text made only of U+0003–U+D7FF maps to itself, and such
// text occurs in a key exactly where it occurs in the original (used for literal regex terms).

// Control characters are the point of these patterns.
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\u0000\u0001\uD800-\uFFFF]/;

/** The order-preserving key of `s` (identity for text without U+0000, U+0001 or units ≥ U+D800). */
export function textKey(s: string): string {
  if (!SPECIAL.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u === 0) out += '\u0001\u0001';
    else if (u === 1) out += '\u0001\u0002';
    else if (u < 0xd800) out += s[i];
    else out += String.fromCodePoint(0x10000 + (u - 0xd800));
  }
  return out;
}

/** The inverse of textKey. */
export function textFromKey(k: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0001\uD800-\uDFFF]/.test(k)) return k;
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const u = k.charCodeAt(i);
    if (u === 1) {
      out += k.charCodeAt(i + 1) === 1 ? '\u0000' : '\u0001';
      i++;
    } else if (u >= 0xd800 && u <= 0xdbff) {
      const cp = k.codePointAt(i)!;
      out += String.fromCharCode(0xd800 + (cp - 0x10000));
      i++;
    } else out += k[i];
  }
  return out;
}

/**
 * True when `s` can be sent as PostgreSQL text unchanged: no U+0000 and no lone surrogate (the driver
 * would turn one into U+FFFD). A value that cannot be stored can never equal a stored one.
 */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed();
}

/** True when every unit of `s` is in U+0003–U+D7FF: such text is its own key, and keeps its occurrences. */
export function isPlainText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\u0003-\uD7FF]*$/.test(s);
}

// Code-point keys: the same idea for values compared by code point (min/max of text in aggregations,
// reference-aggregate.ts compareCodePoints: what "C" order on UTF-8 gives), not by UTF-16 unit. Each code
// point of the string (a lone surrogate counts as one, as the string iterator yields it) maps on its own:
//   U+0000 → U+0001 U+0001     U+0001 → U+0001 U+0002     U+0002–U+D7FE → itself
//   U+D7FF → U+D7FF U+0001     a lone surrogate s (D800–DFFF) → U+D7FF, U+0002 + (s − 0xD800)
//   U+E000–U+10FFFF → itself
// Images are prefix-free and increasing in the code point, so byte order of the key is code-point order.

// eslint-disable-next-line no-control-regex
const CP_SPECIAL = /[\u0000\u0001\uD7FF-\uDFFF]/;

/** The code-point-order key of `s` (identity for text without U+0000, U+0001, U+D7FF or lone surrogates). */
export function codePointKey(s: string): string {
  if (!CP_SPECIAL.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0) out += '\u0001\u0001';
    else if (cp === 1) out += '\u0001\u0002';
    else if (cp === 0xd7ff) out += '\uD7FF\u0001';
    else if (cp >= 0xd800 && cp <= 0xdfff) out += `\uD7FF${String.fromCharCode(0x0002 + (cp - 0xd800))}`;
    else out += ch;
  }
  return out;
}

/** The inverse of codePointKey. */
export function textFromCodePointKey(k: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0001\uD7FF]/.test(k)) return k;
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const u = k.charCodeAt(i);
    if (u === 1) {
      out += k.charCodeAt(i + 1) === 1 ? '\u0000' : '\u0001';
      i++;
    } else if (u === 0xd7ff) {
      const n = k.charCodeAt(i + 1);
      out += n === 1 ? '\uD7FF' : String.fromCharCode(0xd800 + (n - 0x0002));
      i++;
    } else out += k[i];
  }
  return out;
}
