// Parsing of the q language (GS CIM 009 §4.9; guide §8.1, §8.4) and the printer's round trip.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import { parseQ, type QParseLimits } from '../../src/core/query/q-parse.ts';
import { formatQ } from '../../src/core/query/q-format.ts';
import type { QExpr, QLiteral, QPath } from '../../src/core/query/q-ast.ts';
import { Q_META_MEMBERS, Q_OPS } from '../../src/core/query/q-ast.ts';

const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
const terms: TermMap = {
  expandTerm: (name) => (name === 'location' ? 'https://uri.etsi.org/ngsi-ld/location' : name.includes(':') ? name : DEFAULT + name),
  compactIri: (iri) => (iri === 'https://uri.etsi.org/ngsi-ld/location' ? 'location' : iri.startsWith(DEFAULT) ? iri.slice(DEFAULT.length) : iri),
};
const LIMITS = { maxLength: 2000 };
const q = (s: string): QExpr => parseQ(s, terms, LIMITS);
const p = (attr: string, ...sub: string[]): QPath => ({ attr: DEFAULT + attr, sub: sub.map((s) => DEFAULT + s) });

function rejects(s: string, detail?: RegExp, limits: QParseLimits = LIMITS): void {
  assert.throws(
    () => parseQ(s, terms, limits),
    (e: unknown) => {
      assert.ok(e instanceof NgsiError, `${s}: ${String(e)}`);
      assert.equal(e.kind, 'BadRequestData', s);
      assert.equal(e.status, 400);
      if (detail) assert.match(e.detail, detail, s);
      return true;
    },
    s,
  );
}

describe('parseQ: the guide examples', () => {
  test('parses a number comparison', () => {
    assert.deepEqual(q('temperature>25'), { type: 'compare', path: p('temperature'), op: '>', value: { kind: 'number', value: 25 } });
  });

  test('parses an AND of a quoted string and a number', () => {
    assert.deepEqual(q('status=="active";battery<20'), {
      type: 'and',
      items: [
        { type: 'compare', path: p('status'), op: '==', value: { kind: 'string', value: 'active' } },
        { type: 'compare', path: p('battery'), op: '<', value: { kind: 'number', value: 20 } },
      ],
    });
  });

  test('keeps the backslashes of a quoted regular expression for the regex engine', () => {
    assert.deepEqual(q('name~="^Sensor-\\d+$"'), { type: 'compare', path: p('name'), op: '~=', value: { kind: 'regex', pattern: '^Sensor-\\d+$' } });
  });

  test('parses a parenthesised AND inside an OR', () => {
    const e = q('(temperature>=20;temperature<=25)|capacity<=10');
    assert.equal(e.type, 'or');
    assert.equal(e.type === 'or' && e.items[0].type, 'and');
  });

  test('parses a range and a value list', () => {
    assert.deepEqual(q('temperature==20..25'), {
      type: 'compare',
      path: p('temperature'),
      op: '==',
      value: { kind: 'range', min: { kind: 'number', value: 20 }, max: { kind: 'number', value: 25 } },
    });
    assert.deepEqual(q('color=="red","blue"'), {
      type: 'compare',
      path: p('color'),
      op: '==',
      value: { kind: 'list', items: [{ kind: 'string', value: 'red' }, { kind: 'string', value: 'blue' }] },
    });
  });

  test('reads an unquoted URN as a URI literal', () => {
    assert.deepEqual(q('locatedIn==urn:ngsi-ld:Room:R1'), {
      type: 'compare',
      path: p('locatedIn'),
      op: '==',
      value: { kind: 'uri', value: 'urn:ngsi-ld:Room:R1' },
    });
  });

  test('addresses metadata members as meta, not as sub-attributes', () => {
    assert.deepEqual(q('temperature.observedAt>2024-05-01T00:00:00Z'), {
      type: 'compare',
      path: { ...p('temperature'), meta: 'observedAt' },
      op: '>',
      value: { kind: 'dateTime', value: '2024-05-01T00:00:00Z', millis: Date.UTC(2024, 4, 1) },
    });
    for (const m of Q_META_MEMBERS) assert.deepEqual((q(`a.b.${m}`) as { path: QPath }).path, { ...p('a', 'b'), meta: m });
  });

  test('keeps the bracket keys raw and unexpanded', () => {
    assert.deepEqual((q('address[city]=="Lyon"') as { path: QPath }).path, { ...p('address'), jsonPath: ['city'] });
    assert.deepEqual((q('name[fr]=="Salle"') as { path: QPath }).path, { ...p('name'), jsonPath: ['fr'] });
    assert.deepEqual((q('reading.rawdata[pm.pm25]>35') as { path: QPath }).path, { ...p('reading', 'rawdata'), jsonPath: ['pm', 'pm25'] });
    assert.deepEqual((q('name[*]=="x"') as { path: QPath }).path, { ...p('name'), jsonPath: ['*'] });
  });

  test('parses existence and non-existence tests, also combined', () => {
    assert.deepEqual(q('isParked'), { type: 'exists', path: p('isParked') });
    assert.deepEqual(q('!heading;speed>25'), {
      type: 'and',
      items: [
        { type: 'notExists', path: p('heading') },
        { type: 'compare', path: p('speed'), op: '>', value: { kind: 'number', value: 25 } },
      ],
    });
  });

  test('expands compact IRIs and dotted sub-attribute names with the context', () => {
    assert.deepEqual((q('ex:temp.accuracy>1') as { path: QPath }).path, { attr: 'ex:temp', sub: [DEFAULT + 'accuracy'] });
  });
});

describe('parseQ: precedence and nesting', () => {
  test('binds ; tighter than |', () => {
    const t = (n: string, v: number): QExpr => ({ type: 'compare', path: p(n), op: '==', value: { kind: 'number', value: v } });
    assert.deepEqual(q('a==1|b==2;c==3'), { type: 'or', items: [t('a', 1), { type: 'and', items: [t('b', 2), t('c', 3)] }] });
    assert.deepEqual(q('a==1;b==2|c==3'), { type: 'or', items: [{ type: 'and', items: [t('a', 1), t('b', 2)] }, t('c', 3)] });
  });

  test('nests parentheses freely and flattens same-kind groups', () => {
    assert.deepEqual(q('((a;b));c'), q('a;b;c'));
    assert.deepEqual(q('(a|(b|c))'), q('a|b|c'));
    assert.deepEqual(q('(((a)))'), q('a'));
    const e = q('(a|b);((c|d);e)');
    assert.equal(formatQ(e, terms.compactIri), '(a|b);(c|d);e');
  });

  test('matches operators longest first', () => {
    const op = (s: string): string => (q(s) as { op: string }).op;
    assert.equal(op('a>=5'), '>=');
    assert.equal(op('a<=5'), '<=');
    assert.equal(op('a!~=x'), '!~=');
    assert.equal(op('a!=5'), '!=');
    assert.equal(op('a~=x'), '~=');
    assert.deepEqual(Q_OPS.slice(0, 3), ['!~=', '>=', '<=']);
  });
});

describe('parseQ: values', () => {
  const value = (s: string): unknown => (q(`a==${s}`) as { value: unknown }).value;

  test('reads unquoted numbers, booleans, DateTimes, Dates and Times by their grammar', () => {
    assert.deepEqual(value('-12.5'), { kind: 'number', value: -12.5 });
    assert.deepEqual(value('1e3'), { kind: 'number', value: 1000 });
    assert.deepEqual(value('-0'), { kind: 'number', value: 0 });
    assert.deepEqual(value('true'), { kind: 'boolean', value: true });
    assert.deepEqual(value('false'), { kind: 'boolean', value: false });
    assert.deepEqual(value('2024-05-01T10:00:00.5Z'), { kind: 'dateTime', value: '2024-05-01T10:00:00.5Z', millis: Date.UTC(2024, 4, 1, 10, 0, 0, 500) });
    assert.deepEqual(value('2024-05-01'), { kind: 'date', value: '2024-05-01' });
    assert.deepEqual(value('10:00:00Z'), { kind: 'time', value: '10:00:00Z' });
    assert.deepEqual(value('commercial'), { kind: 'uri', value: 'commercial' });
    assert.deepEqual(value('https://example.org/a#b'), { kind: 'uri', value: 'https://example.org/a#b' });
  });

  test('decodes JSON escapes in quoted strings and keeps operator characters inside quotes', () => {
    assert.deepEqual(value('"a\\"b\\u00e9\\n;|)"'), { kind: 'string', value: 'a"bé\n;|)' });
    assert.deepEqual(value('"30"'), { kind: 'string', value: '30' });
    assert.deepEqual(value('"x,y"'), { kind: 'string', value: 'x,y' });
  });

  test('reads lists and ranges of DateTimes and quoted strings', () => {
    assert.deepEqual(value('"a".."m"'), { kind: 'range', min: { kind: 'string', value: 'a' }, max: { kind: 'string', value: 'm' } });
    const r = value('2024-01-01T00:00:00Z..2024-12-31T23:59:59.999Z') as { kind: string };
    assert.equal(r.kind, 'range');
    assert.deepEqual(value('1,"two",urn:x:3'), {
      kind: 'list',
      items: [{ kind: 'number', value: 1 }, { kind: 'string', value: 'two' }, { kind: 'uri', value: 'urn:x:3' }],
    });
  });

  test('accepts a bare regex whose groups hold | and ) and ends at the next top-level ;', () => {
    assert.deepEqual(q('name~=^(a|b)$;x==1'), {
      type: 'and',
      items: [
        { type: 'compare', path: p('name'), op: '~=', value: { kind: 'regex', pattern: '^(a|b)$' } },
        { type: 'compare', path: p('x'), op: '==', value: { kind: 'number', value: 1 } },
      ],
    });
    assert.deepEqual((q('(name~=[)|]x)') as { value: unknown }).value, { kind: 'regex', pattern: '[)|]x' });
    assert.deepEqual((q('name~=".*hive.*"') as { value: unknown }).value, { kind: 'regex', pattern: '.*hive.*' });
    assert.deepEqual((q('name~="say \\"hi\\""') as { value: unknown }).value, { kind: 'regex', pattern: 'say "hi"' });
  });

  test('expands the values of expandValues attributes as IRIs', () => {
    const e = parseQ('category==commercial,"shop";other==commercial', terms, LIMITS, { expandValues: ['category'] });
    assert.deepEqual(e, {
      type: 'and',
      items: [
        { type: 'compare', path: p('category'), op: '==', value: { kind: 'list', items: [{ kind: 'uri', value: DEFAULT + 'commercial' }, { kind: 'string', value: DEFAULT + 'shop' }] } },
        { type: 'compare', path: p('other'), op: '==', value: { kind: 'uri', value: 'commercial' } },
      ],
    });
  });
});

describe('parseQ: errors are 400 BadRequestData naming the position', () => {
  test('rejects empty expressions and empty items', () => {
    rejects('', /empty/);
    rejects('a==1;', /expected an attribute name at the end/);
    rejects('a==1||b', /position 6/);
    rejects('()', /position 2/);
  });

  test('rejects unbalanced parentheses', () => {
    rejects('(a==1', /missing "\)" for the "\(" at position 1/);
    rejects('a==1)', /unbalanced "\)" at position 5/);
  });

  test('rejects a missing operator or value and stray text', () => {
    rejects('a b', /expected an operator.*position 2/);
    rejects('a==', /expected a value at the end/);
    rejects('a=5', /expected an operator/);
    rejects('a==1 2', /whitespace/);
    rejects('a=="x"y', /position 7/);
    rejects('"a"==1', /attribute name at position 1/);
    rejects('9a==1', /"9a" is not valid as an attribute name/);
    rejects('a.==1', /sub-attribute name at position 3/);
  });

  test('rejects lists and ranges with operators other than == and !=', () => {
    rejects('speed>4..5', /range is only allowed with == and !=/);
    rejects('speed<=1,2', /value list is only allowed with == and !=/);
    rejects('a==1..2..3', /exactly two bounds/);
    rejects('a==1,2..3', /cannot contain a range/);
  });

  test('rejects ranges whose bounds are of different kinds or booleans', () => {
    rejects('a==1.."z"', /one kind/);
    rejects('a==2024-01-01..5', /one kind/);
    rejects('a==false..true', /booleans/);
  });

  test('rejects malformed literals rather than guessing', () => {
    rejects('a==2026-13-45T00:00:00Z', /not a number, a UTC DateTime/);
    rejects('a==2024-05-01T10:00:00+02:00', /not a number/);
    rejects('a==1e400', /out of range/);
    rejects('a==12abc', /quote it/);
    rejects('a=="unterminated', /unterminated string at position 4/);
    rejects('a=="bad \\x escape"', /invalid escape.*position 9/);
    rejects('a==x(1)', /unexpected "\("/);
    // `,` separates list items, so a comma decimal separator cannot be used in an unquoted DateTime.
    rejects('a==2024-05-01T10:00:00,5Z', /"2024-05-01T10:00:00" is not a number/);
  });

  test('rejects invalid or unsupported regular expressions', () => {
    rejects('a~=(', /invalid or unsupported regular expression/);
    rejects('a~="(?=x)y"', /unsupported/);
    rejects('a~="(a)\\1"', /regular expression/);
    rejects('a~=', /expected a regular expression/);
    rejects('a~="x', /unterminated/);
  });

  test('rejects linked-entity paths, which need join', () => {
    rejects('managedBy{name}=="X"', /linked-entity.*join.*position 10/);
  });

  test('rejects non-existence tests with an operator and bad bracket paths', () => {
    rejects('!a==1', /non-existence/);
    rejects('a[b', /missing "\]"/);
    rejects('a[]==1', /empty key/);
    rejects('a[b..c]==1', /empty key/);
    rejects('a.observedAt[x]==1', /plain member/);
    rejects('a[b].c==1', /expected an operator/);
  });

  test('rejects expressions over the length limit and the nesting limit', () => {
    assert.throws(
      () => parseQ('a'.repeat(11), terms, { maxLength: 10 }),
      (e: unknown) => e instanceof NgsiError && e.kind === 'TooComplexQuery' && e.status === 403 && /longer than the limit of 10/.test(e.detail),
    );
    rejects(`${'('.repeat(5)}a${')'.repeat(5)}`, /nested deeper than 4/, { maxLength: 100, maxDepth: 4 });
    assert.doesNotThrow(() => parseQ(`${'('.repeat(4)}a${')'.repeat(4)}`, terms, { maxLength: 100, maxDepth: 4 }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property test: random canonical ASTs printed with formatQ parse back to the same AST.

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomExpr(rand: () => number, depth: number): QExpr {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const name = (): string => pick(['temperature', 'name', 'a', 'b_2', 'Škola', 'ex:speed', 'location']);
  const literal = (): QLiteral => {
    switch (pick(['number', 'string', 'boolean', 'dateTime', 'date', 'time', 'uri'] as const)) {
      case 'number':
        return { kind: 'number', value: pick([0, 1, -3, 2.5, 1e21, -1e-7, 123456.789]) };
      case 'string':
        return { kind: 'string', value: pick(['', 'red', 'a"b', 'x;y|z)', '30', 'é\u0001\\', '..']) };
      case 'boolean':
        return { kind: 'boolean', value: rand() < 0.5 };
      case 'dateTime': {
        const v = pick(['2024-05-01T10:00:00Z', '2020-02-29T23:59:59.123456Z', '1999-12-31T00:00:00.5Z']);
        return { kind: 'dateTime', value: v, millis: Date.parse(v) };
      }
      case 'date':
        return { kind: 'date', value: pick(['2024-05-01', '2000-02-29']) };
      case 'time':
        return { kind: 'time', value: pick(['10:00:00Z', '23:59:59.25Z']) };
      case 'uri':
        return { kind: 'uri', value: pick(['urn:ngsi-ld:Room:R1', 'https://example.org/x#y', 'commercial']) };
    }
  };
  if (depth > 0 && rand() < 0.4) {
    const type = pick(['and', 'or'] as const);
    const items: QExpr[] = [];
    const n = 2 + Math.floor(rand() * 3);
    while (items.length < n) {
      const child = randomExpr(rand, depth - 1);
      if (child.type === type) items.push(...child.items);
      else items.push(child);
    }
    return { type, items };
  }
  const path: QPath = { attr: terms.expandTerm(name()), sub: [] };
  for (let i = Math.floor(rand() * 3); i > 0; i--) path.sub.push(terms.expandTerm(name()));
  const r = rand();
  if (r < 0.2) path.meta = pick(Q_META_MEMBERS);
  else if (r < 0.4) path.jsonPath = [pick(['city', 'pm', '0', '*', 'en'])].concat(rand() < 0.5 ? ['x-y'] : []);
  const shape = rand();
  if (shape < 0.1) return { type: 'exists', path };
  if (shape < 0.2) return { type: 'notExists', path };
  if (shape < 0.3) return { type: 'compare', path, op: pick(['~=', '!~='] as const), value: { kind: 'regex', pattern: pick(['^a.*', '(x|y)+$', '\\d{2};']) } };
  if (shape < 0.5) return { type: 'compare', path, op: pick(['>', '>=', '<', '<='] as const), value: literal() };
  const op = pick(['==', '!='] as const);
  if (shape < 0.6) {
    const min = literal();
    if (min.kind === 'boolean') return { type: 'compare', path, op, value: min };
    const max = literal();
    const cls = (l: QLiteral): string => (l.kind === 'uri' ? 'string' : l.kind);
    return { type: 'compare', path, op, value: cls(min) === cls(max) ? { kind: 'range', min, max } : min };
  }
  if (shape < 0.7) return { type: 'compare', path, op, value: { kind: 'list', items: [literal(), literal(), literal()].slice(0, 2 + Math.floor(rand() * 2)) } };
  return { type: 'compare', path, op, value: literal() };
}

describe('formatQ', () => {
  test('prints canonical ASTs that parse back to the same AST (200 fixed seeds)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const expr = randomExpr(prng(seed), 3);
      const text = formatQ(expr, terms.compactIri);
      let back: QExpr;
      try {
        back = parseQ(text, terms, { maxLength: 100_000 });
      } catch (e) {
        assert.fail(`seed ${seed}: ${text} failed to parse: ${e instanceof Error ? e.message : String(e)}`);
      }
      assert.deepEqual(back, expr, `seed ${seed}: ${text}`);
    }
  });

  test('quotes URI literals that would not read back bare', () => {
    assert.equal(formatQ({ type: 'compare', path: p('a'), op: '==', value: { kind: 'uri', value: 'http://x/../y' } }, terms.compactIri), 'a=="http://x/../y"');
  });
});
