// UUIDv7 instance ids: RFC 9562 layout, and ascending in generation order (the property the indexes use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidV7 } from '../../src/services/time-ordered-id.ts';

test('uuidV7 has the version 7 and RFC variant bits and carries the millisecond timestamp', () => {
  const at = Date.UTC(2026, 10, 29, 10, 0, 0, 123);
  const id = uuidV7(at);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
});

test('ids generated one after another sort in generation order, also within one millisecond', () => {
  const ids: string[] = [];
  for (let i = 0; i < 2000; i++) ids.push(uuidV7(1_800_000_000_000 + Math.floor(i / 500)));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});
