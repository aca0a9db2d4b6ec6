// The literal prefix of an anchored idPattern (GS CIM 009 §4.6; idPattern in §5.7.2): lets the SQLite
// store range over the (tenant, id) primary key before the linear-time RE2 match decides.

const PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const REGEX_META = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

/**
 * The literal text every match of an anchored pattern starts with (`^urn:ngsi-ld:Car:` → that text), or ''
 * when unsure. Conservative: any `|` disables it, and a literal followed by `?`, `*` or `{` is dropped.
 */
export function literalPrefix(source: string): string {
  if (!source.startsWith('^')) return '';
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === '|') return '';
  }
  const chars: string[] = [];
  let i = 1;
  while (i < source.length) {
    const ch = String.fromCodePoint(source.codePointAt(i)!);
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined || !PUNCTUATION.test(next)) break;
      chars.push(next);
      i += 2;
    } else if (REGEX_META.has(ch)) {
      break;
    } else {
      chars.push(ch);
      i += ch.length;
    }
  }
  if (i < source.length && '?*{'.includes(source[i])) chars.pop();
  return chars.join('');
}

/** The smallest string greater than every string starting with `prefix` (code point order), or null. */
export function prefixUpperBound(prefix: string): string | null {
  const cps = [...prefix].map((c) => c.codePointAt(0)!);
  const last = cps.pop()!;
  if (last >= 0x10ffff) return null;
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return String.fromCodePoint(...cps, next);
}
