// scopeQ parsing and evaluation (GS CIM 009 §4.18, §4.19; guide §9.1).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import { evaluateScopeQ, parseScopeQ, type ScopeQLimits } from '../../src/core/query/scope-q.ts';

const LIMITS = { maxLength: 500 };
const matches = (q: string, scopes: string[] | undefined): boolean => evaluateScopeQ(parseScopeQ(q, LIMITS), scopes);

function rejects(s: string, detail: RegExp, limits: ScopeQLimits = LIMITS): void {
  assert.throws(
    () => parseScopeQ(s, limits),
    (e: unknown) => e instanceof NgsiError && e.kind === 'BadRequestData' && detail.test(e.detail),
    s,
  );
}

describe('parseScopeQ', () => {
  test('parses scopes, wildcards and the descendant suffix', () => {
    assert.deepEqual(parseScopeQ('/Madrid/+/ParqueNorte', LIMITS), { type: 'scope', levels: ['Madrid', '+', 'ParqueNorte'], descendants: false });
    assert.deepEqual(parseScopeQ('/Madrid/#', LIMITS), { type: 'scope', levels: ['Madrid'], descendants: true });
    assert.deepEqual(parseScopeQ('/#', LIMITS), { type: 'any' });
  });

  test('reads , and | as OR, ; as AND binding tighter, and parentheses as grouping', () => {
    const s = (...levels: string[]) => ({ type: 'scope', levels, descendants: false });
    assert.deepEqual(parseScopeQ('(/Madrid/Districts;/CompanyA)|/CompanyB', LIMITS), {
      type: 'or',
      items: [{ type: 'and', items: [s('Madrid', 'Districts'), s('CompanyA')] }, s('CompanyB')],
    });
    assert.deepEqual(parseScopeQ('/A,/B|/C', LIMITS), { type: 'or', items: [s('A'), s('B'), s('C')] });
    assert.deepEqual(parseScopeQ('/A;/B,/C', LIMITS), { type: 'or', items: [{ type: 'and', items: [s('A'), s('B')] }, s('C')] });
  });

  test('rejects malformed scopes with a 400 naming the position', () => {
    rejects('', /empty/);
    rejects('Madrid', /starting with "\/" at position 1/);
    rejects('/Madrid/', /empty scope level at the end/);
    rejects('//a', /empty scope level at position 2/);
    rejects('/a-b', /"a-b" is not a scope level/);
    rejects('/9a', /not a scope level/);
    rejects('/a/#/b', /unexpected "\/" at position 5/);
    rejects('(/a', /missing "\)"/);
    rejects('/a)', /unbalanced/);
    rejects('/a;', /expected a scope/);
    rejects('/a b', /not a scope level/);
    assert.throws(
      () => parseScopeQ(`/${'a'.repeat(20)}`, { maxLength: 10 }),
      (e: unknown) => e instanceof NgsiError && e.kind === 'TooComplexQuery' && /longer than the limit of 10/.test(e.detail),
    );
    rejects('((/a))', /nested deeper than 1/, { maxLength: 50, maxDepth: 1 });
  });
});

describe('evaluateScopeQ', () => {
  test('matches an exact scope only', () => {
    assert.equal(matches('/Madrid', ['/Madrid']), true);
    assert.equal(matches('/Madrid', ['/Madrid/Gardens']), false);
    assert.equal(matches('/Madrid', ['/Madri']), false);
  });

  test('matches a scope and its descendants with /#', () => {
    assert.equal(matches('/Madrid/#', ['/Madrid']), true);
    assert.equal(matches('/Madrid/#', ['/Madrid/Gardens/ParqueNorte']), true);
    assert.equal(matches('/Madrid/#', ['/MadridNorte']), false);
  });

  test('matches exactly one level of any name with +', () => {
    assert.equal(matches('/Madrid/+/ParqueNorte', ['/Madrid/Gardens/ParqueNorte']), true);
    assert.equal(matches('/Madrid/+/ParqueNorte', ['/Madrid/ParqueNorte']), false);
    assert.equal(matches('/Madrid/+', ['/Madrid/a/b']), false);
    assert.equal(matches('/+/#', ['/Anything/below']), true);
  });

  test('matches /# for any entity with a scope, and never an entity without one', () => {
    assert.equal(matches('/#', ['/x']), true);
    assert.equal(matches('/#', undefined), false);
    assert.equal(matches('/#', []), false);
    assert.equal(matches('/a|/b', undefined), false);
  });

  test('needs every AND item satisfied, possibly by different scopes', () => {
    const scopes = ['/Madrid/Districts/Centro', '/CompanyA'];
    assert.equal(matches('/Madrid/Districts/#;/CompanyA', scopes), true);
    assert.equal(matches('(/Madrid/Districts;/CompanyA)|/CompanyB', scopes), false);
    assert.equal(matches('(/Madrid/Districts/+;/CompanyA)|/CompanyB', scopes), true);
    assert.equal(matches('/CompanyB,/CompanyA', scopes), true);
    assert.equal(matches('/CompanyB;/CompanyA', scopes), false);
  });
});
