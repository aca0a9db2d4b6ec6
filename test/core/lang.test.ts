// Tests for the `lang` language-priority list and languageMap lookup (GS CIM 009 §4.15, RFC 4647 §3.4).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import { parseLang, pickLanguage } from '../../src/core/model/lang.ts';

function pick(map: Record<string, string | string[]>, lang: string): string | undefined {
  return pickLanguage(map, parseLang(lang))?.tag;
}

describe('parseLang', () => {
  test('a single tag gets weight 1', () => {
    assert.deepEqual(parseLang('en').ranges, [{ tag: 'en', q: 1 }]);
  });

  test('ranges are sorted by descending weight, ties kept in client order', () => {
    assert.deepEqual(parseLang('*;q=0.5,fr;q=0.9,fr-CH,de').ranges, [
      { tag: 'fr-ch', q: 1 },
      { tag: 'de', q: 1 },
      { tag: 'fr', q: 0.9 },
      { tag: '*', q: 0.5 },
    ]);
  });

  test('whitespace around items and parameters is allowed, Q is case-insensitive', () => {
    assert.deepEqual(parseLang('en , fr ; Q=0.3').ranges, [
      { tag: 'en', q: 1 },
      { tag: 'fr', q: 0.3 },
    ]);
  });

  for (const bad of ['', 'en,,fr', 'en;q=2', 'en;q=0.1234', 'en;q=', 'en;level=1', 'en;q=0.5;q=0.4', 'e n', 'toolongtag', 'en_US', '-en', 'en-']) {
    test(`the invalid list '${bad}' is rejected with BadRequestData`, () => {
      assert.throws(
        () => parseLang(bad),
        (err: unknown) => err instanceof NgsiError && err.kind === 'BadRequestData',
      );
    });
  }
});

describe('pickLanguage', () => {
  const map = { en: 'Hall', fr: 'Salle', 'de-AT': 'Saal', nl: 'Zaal' };

  test('an exact tag is chosen and its value returned', () => {
    assert.deepEqual(pickLanguage(map, parseLang('fr')), { tag: 'fr', value: 'Salle' });
  });

  test('a higher weight wins regardless of position in the list', () => {
    assert.equal(pick(map, 'fr;q=0.5,nl;q=0.9'), 'nl');
  });

  test('tags compare case-insensitively and the stored tag is reported', () => {
    assert.equal(pick(map, 'DE-at'), 'de-AT');
  });

  test('a requested tag is truncated progressively (nl-BE finds nl)', () => {
    assert.equal(pick(map, 'nl-BE'), 'nl');
    assert.equal(pick(map, 'nl-Latn-BE'), 'nl');
  });

  test('a requested prefix finds a more specific stored tag (de finds de-AT)', () => {
    assert.equal(pick(map, 'de'), 'de-AT');
    assert.equal(pick({ 'en-US': 'a' }, 'en-GB'), 'en-US');
  });

  test('an exact match is preferred to a more specific stored tag', () => {
    assert.equal(pick({ 'en-US': 'a', en: 'b' }, 'en'), 'en');
  });

  test('a truncated range drops a trailing singleton subtag', () => {
    assert.equal(pick({ zh: 'x', 'zh-hant': 'y' }, 'zh-Hant-x-private'), 'zh-hant');
  });

  test('the first range that matches wins over later lower-weight ones', () => {
    assert.equal(pick(map, 'fr-CH,fr;q=0.9,*;q=0.5'), 'fr');
  });

  test('the wildcard selects the first entry of the map', () => {
    assert.equal(pick(map, 'it,*;q=0.1'), 'en');
  });

  test('no match at all selects the first entry of the map', () => {
    assert.equal(pick(map, 'ja'), 'en');
  });

  test('a q=0 range excludes a tag from the wildcard', () => {
    assert.equal(pick(map, '*,en;q=0'), 'fr');
  });

  test('array values are returned whole', () => {
    assert.deepEqual(pickLanguage({ en: ['a', 'b'] }, parseLang('en')), { tag: 'en', value: ['a', 'b'] });
  });

  test('an empty map yields undefined', () => {
    assert.equal(pickLanguage({}, parseLang('en')), undefined);
  });
});
