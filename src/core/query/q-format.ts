// Printer of q ASTs back to q text (GS CIM 009 §4.9; guide §8.1): the inverse of parseQ for canonical ASTs,
// used by property tests, differential tests and logs.
import type { QExpr, QList, QLiteral, QPath, QRange, QRegex } from './q-ast.ts';

/** Characters that stop or are refused in an unquoted value; see parseQ. */
const UNSAFE_BARE = /[;|),"(]|\.\./;

/**
 * Prints `expr` as q text. Names are FQNs in the AST; `compact` turns them back into names the q grammar
 * accepts (pass `TermMap.compactIri`); identity by default, which only round-trips for short names.
 *
 * Round trip: `parseQ(formatQ(e, compact), terms)` deep-equals `e` for every canonical AST (logical nodes
 * flattened, as the parser builds them) whose `uri` literals print bare (no `;|),"(`, whitespace or `..`,
 * and not text that reads as another kind) and whose regex patterns hold no `\"`. Otherwise the meaning
 * is kept but a `uri` literal comes back as a `string` literal (they compare identically).
 */
export function formatQ(expr: QExpr, compact: (iri: string) => string = (iri) => iri): string {
  switch (expr.type) {
    case 'or':
      return expr.items.map((e) => (e.type === 'or' ? `(${formatQ(e, compact)})` : formatQ(e, compact))).join('|');
    case 'and':
      return expr.items.map((e) => (e.type === 'or' || e.type === 'and' ? `(${formatQ(e, compact)})` : formatQ(e, compact))).join(';');
    case 'exists':
      return formatPath(expr.path, compact);
    case 'notExists':
      return `!${formatPath(expr.path, compact)}`;
    case 'compare':
      return `${formatPath(expr.path, compact)}${expr.op}${formatOperand(expr.value)}`;
  }
}

export function formatPath(path: QPath, compact: (iri: string) => string): string {
  let out = [path.attr, ...path.sub].map(compact).join('.');
  if (path.meta !== undefined) out += `.${path.meta}`;
  if (path.jsonPath !== undefined) out += `[${path.jsonPath.join('.')}]`;
  return out;
}

function formatOperand(v: QLiteral | QList | QRange | QRegex): string {
  switch (v.kind) {
    case 'list':
      return v.items.map(formatLiteral).join(',');
    case 'range':
      return `${formatLiteral(v.min)}..${formatLiteral(v.max)}`;
    case 'regex':
      return `"${v.pattern.replaceAll('"', '\\"')}"`;
    default:
      return formatLiteral(v);
  }
}

export function formatLiteral(l: QLiteral): string {
  switch (l.kind) {
    case 'number':
      return String(l.value);
    case 'string':
      return JSON.stringify(l.value);
    case 'boolean':
      return l.value ? 'true' : 'false';
    case 'dateTime':
    case 'date':
    case 'time':
      return l.value;
    case 'uri':
      return isBareUri(l.value) ? l.value : JSON.stringify(l.value);
  }
}

/** True when `text` printed unquoted would parse back as a `uri` literal. */
function isBareUri(text: string): boolean {
  return text !== '' && !UNSAFE_BARE.test(text) && ![...text].some((c) => c <= ' ') && !/^[-+.\d]/.test(text) && text !== 'true' && text !== 'false';
}
