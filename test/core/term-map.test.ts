// Term expansion and IRI compaction of TermMaps built from jsonld.js active contexts (§4.4, §5.5.7).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import jsonld from 'jsonld';
import { buildTermMap, type ActiveContextLike } from '../../src/core/jsonld/term-map-build.ts';
import {
  bundledCoreFile,
  bundledCoreVersion,
  isCoreContextUrl,
  CORE_CONTEXT_URL_PATTERN,
} from '../../src/core/jsonld/core-context.ts';
import type { JsonValue } from '../../src/core/json.ts';

interface Processor {
  processContext(active: unknown, local: JsonValue | null, options: object): Promise<unknown>;
}
const processor = jsonld as unknown as Processor;
const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
const coreDoc = JSON.parse(readFileSync(bundledCoreFile('1.9'), 'utf8')) as JsonValue;

// Serves nothing from the network: the only remote context the core names is a scoped import.
const offlineLoader = async (url: string): Promise<object> => ({
  document: { '@context': {} },
  documentUrl: url,
  contextUrl: null,
});

async function process(local: JsonValue): Promise<ActiveContextLike> {
  const initial = await processor.processContext(null, null, { documentLoader: offlineLoader });
  return (await processor.processContext(initial, local, { documentLoader: offlineLoader })) as ActiveContextLike;
}

const core = await process(coreDoc);
const coreOnly = buildTermMap([core]);

describe('term expansion', () => {
  test('a core term expands to its core IRI', () => {
    assert.equal(coreOnly.expandTerm('location'), `${NGSI}location`);
    assert.equal(coreOnly.expandTerm('Property'), `${NGSI}Property`);
  });

  test('an undefined name lands in the default-context namespace through @vocab', () => {
    assert.equal(coreOnly.expandTerm('Sensor'), `${DEFAULT}Sensor`);
  });

  test('a compact IRI expands through its prefix term', async () => {
    const user = await process({ ex: 'http://example.org/' });
    const terms = buildTermMap([user, core]);
    assert.equal(terms.expandTerm('ex:temp'), 'http://example.org/temp');
    assert.equal(terms.expandTerm('ngsi-ld:default-context/x'), `${DEFAULT}x`);
  });

  test('absolute IRIs and blank-node-like names are returned unchanged', () => {
    assert.equal(coreOnly.expandTerm('http://example.org/a#b'), 'http://example.org/a#b');
    assert.equal(coreOnly.expandTerm('urn:ngsi-ld:thing'), 'urn:ngsi-ld:thing');
    assert.equal(coreOnly.expandTerm('_:b0'), '_:b0');
  });

  test('a term defined in the context wins over the prefix reading of its name', () => {
    const terms = buildTermMap([
      {
        mappings: new Map([
          ['ex', { '@id': 'http://example.org/' }],
          ['ex:odd', { '@id': 'http://other.org/odd' }],
        ]),
      },
    ]);
    assert.equal(terms.expandTerm('ex:odd'), 'http://other.org/odd');
    assert.equal(terms.expandTerm('ex:even'), 'http://example.org/even');
    assert.equal(terms.compactIri('http://other.org/odd'), 'ex:odd');
  });

  test('keyword aliases expand to their keyword', () => {
    assert.equal(coreOnly.expandTerm('id'), '@id');
    assert.equal(coreOnly.expandTerm('type'), '@type');
  });

  test('the last layer wins, so the core context overrides a user redefinition of a core term', async () => {
    const user = await process({ location: 'http://example.org/loc', mine: 'http://example.org/mine' });
    const terms = buildTermMap([user, core]);
    assert.equal(terms.expandTerm('location'), `${NGSI}location`);
    assert.equal(terms.expandTerm('mine'), 'http://example.org/mine');
  });
});

describe('IRI compaction', () => {
  test('an IRI with a term compacts to that term', () => {
    assert.equal(coreOnly.compactIri(`${NGSI}location`), 'location');
    assert.equal(coreOnly.compactIri('@id'), 'id');
  });

  test('when several terms map an IRI the shortest, then lexicographically least, is chosen', () => {
    const terms = buildTermMap([
      {
        mappings: new Map([
          ['temperature', { '@id': 'http://e.org/t' }],
          ['tb', { '@id': 'http://e.org/t' }],
          ['ta', { '@id': 'http://e.org/t' }],
        ]),
      },
    ]);
    assert.equal(terms.compactIri('http://e.org/t'), 'ta');
  });

  test('an attribute created without context reads back as its short name without context', () => {
    assert.equal(coreOnly.compactIri(`${DEFAULT}almostFull`), 'almostFull');
  });

  test('an @vocab-relative name is not used when a user term maps that name elsewhere', async () => {
    const user = await process({ almostFull: 'http://example.org/almostFull' });
    const terms = buildTermMap([user, core]);
    assert.equal(terms.compactIri(`${DEFAULT}almostFull`), 'ngsi-ld:default-context/almostFull');
    assert.equal(terms.compactIri('http://example.org/almostFull'), 'almostFull');
  });

  test('an IRI of a user namespace read back without that context stays the full IRI', () => {
    assert.equal(coreOnly.compactIri('http://example.org/speed'), 'http://example.org/speed');
  });

  test('a compact IRI uses the prefix that gives the shortest result', async () => {
    const user = await process({ ex: 'http://example.org/', exv: 'http://example.org/vocab/' });
    const terms = buildTermMap([user, core]);
    assert.equal(terms.compactIri('http://example.org/vocab/speed'), 'exv:speed');
    assert.equal(terms.compactIri('http://example.org/speed'), 'ex:speed');
  });

  test('a term whose IRI does not end with a delimiter is not used as a prefix', async () => {
    const user = await process({ sp: 'http://example.org/sp' });
    assert.equal(buildTermMap([user, core]).compactIri('http://example.org/speed'), 'http://example.org/speed');
  });

  test('compacting then expanding gives back the IRI', async () => {
    const user = await process({ ex: 'http://example.org/', temperature: 'ex:temperature', almostFull: 'ex:af' });
    const terms = buildTermMap([user, core]);
    const iris = [`${NGSI}location`, 'http://example.org/temperature', 'http://example.org/other', `${DEFAULT}almostFull`, `${DEFAULT}Sensor`, 'urn:x:y'];
    for (const iri of iris) assert.equal(terms.expandTerm(terms.compactIri(iri)), iri, iri);
  });

  test('compactions stay correct when the cache overflows', () => {
    const terms = buildTermMap([core], { compactionCacheSize: 2 });
    for (let i = 0; i < 5; i++) {
      assert.equal(terms.compactIri(`${DEFAULT}a${i}`), `a${i}`);
      assert.equal(terms.compactIri(`${NGSI}location`), 'location');
    }
  });
});

describe('core context URLs', () => {
  test('every published core URL variant is recognised and nothing else', () => {
    for (const v of ['', '-v1.3', '-v1.4', '-v1.5', '-v1.6', '-v1.7', '-v1.8', '-v1.9']) {
      assert.ok(isCoreContextUrl(`https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context${v}.jsonld`), v);
    }
    assert.ok(isCoreContextUrl('http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'));
    assert.ok(!isCoreContextUrl('https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld?x=1'));
    assert.ok(!isCoreContextUrl('https://example.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'));
    assert.equal(CORE_CONTEXT_URL_PATTERN.source.startsWith('^https?:'), true);
  });

  test('1.3, 1.7 and 1.8 have their own bundled copy and every other variant is served by 1.9', () => {
    const url = (v: string): string => `https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context${v}.jsonld`;
    assert.equal(bundledCoreVersion(url('-v1.3')), '1.3');
    assert.equal(bundledCoreVersion(url('-v1.7')), '1.7');
    assert.equal(bundledCoreVersion(url('-v1.8')), '1.8');
    for (const v of ['', '-v1.4', '-v1.5', '-v1.6', '-v1.9']) assert.equal(bundledCoreVersion(url(v)), '1.9', v);
    assert.equal(bundledCoreVersion('https://example.org/ctx.jsonld'), undefined);
  });

  test('the bundled files exist for every version', () => {
    for (const v of ['1.3', '1.7', '1.8', '1.9'] as const) {
      const doc = JSON.parse(readFileSync(bundledCoreFile(v), 'utf8')) as { '@context': { '@vocab': string } };
      assert.equal(doc['@context']['@vocab'], DEFAULT);
    }
  });
});
