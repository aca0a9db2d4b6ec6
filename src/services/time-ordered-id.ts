// UUID version 7 (RFC 9562): a millisecond timestamp, then randomness. Instance ids made this way arrive in
// ascending order, so the stores' unique instance_id indexes grow at their right edge instead of taking a
// random page per insert (measured: the random-UUID index dominated history writes at 100,000 entities).
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;
let lastMs = -1;
let counter = 0;

function randomBytes16(): Buffer {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + 16);
  offset += 16;
  return out;
}

export function uuidV7(nowMs: number = Date.now()): string {
  const b = Buffer.from(randomBytes16());
  // Within one millisecond a 12-bit counter (rand_a, RFC 9562 §6.2 method 1) keeps the order monotonic.
  if (nowMs === lastMs) counter = (counter + 1) & 0xfff;
  else {
    lastMs = nowMs;
    counter = b.readUInt16BE(6) & 0x7ff;
  }
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
