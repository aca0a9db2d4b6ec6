import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareDateTime, dateTimeToMillis, isDateTime, parseDate, parseDateTime, parseTime } from '../../src/core/datetime.ts';

describe('parseDateTime', () => {
  test('accepts a UTC DateTime without fraction and returns it unchanged', () => {
    assert.equal(parseDateTime('2020-08-01T12:03:00Z'), '2020-08-01T12:03:00Z');
  });

  test('keeps the fraction exactly as sent, never padding or trimming zeros', () => {
    assert.equal(parseDateTime('2020-08-01T12:03:00.5Z'), '2020-08-01T12:03:00.5Z');
    assert.equal(parseDateTime('2020-08-01T12:03:00.000Z'), '2020-08-01T12:03:00.000Z');
    assert.equal(parseDateTime('2020-08-01T12:03:00.123456Z'), '2020-08-01T12:03:00.123456Z');
  });

  test('accepts a comma as decimal separator and returns a dot', () => {
    assert.equal(parseDateTime('2020-08-01T12:03:00,25Z'), '2020-08-01T12:03:00.25Z');
  });

  test('rejects offsets, missing Z and missing components', () => {
    for (const s of ['2020-08-01T12:03:00+02:00', '2020-08-01T12:03:00', '2020-08-01T12:03Z', '2020-08-01', '2020-08-01 12:03:00Z']) {
      assert.equal(parseDateTime(s), null, s);
    }
  });

  test('rejects impossible dates and times', () => {
    for (const s of ['2026-02-30T00:00:00Z', '2026-13-45T00:00:00Z', '2025-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T10:60:00Z', '2026-01-01T10:00:60Z', '2026-00-10T00:00:00Z']) {
      assert.equal(parseDateTime(s), null, s);
    }
  });

  test('accepts 29 February in leap years only', () => {
    assert.ok(isDateTime('2024-02-29T00:00:00Z'));
    assert.ok(isDateTime('2000-02-29T00:00:00Z'));
    assert.ok(!isDateTime('1900-02-29T00:00:00Z'));
  });

  test('rejects fractions longer than six digits and non-strings', () => {
    assert.equal(parseDateTime('2020-08-01T12:03:00.1234567Z'), null);
    assert.equal(parseDateTime(1596283380000), null);
    assert.equal(parseDateTime({ '@type': 'DateTime', '@value': '2020-08-01T12:03:00Z' }), null);
    assert.equal(parseDateTime(null), null);
  });
});

describe('Date and Time literals', () => {
  test('parseDate accepts real calendar dates only', () => {
    assert.equal(parseDate('2024-05-01'), '2024-05-01');
    assert.equal(parseDate('2024-05-32'), null);
    assert.equal(parseDate('2024-5-1'), null);
  });

  test('parseTime accepts UTC times with optional fraction', () => {
    assert.equal(parseTime('10:00:00Z'), '10:00:00Z');
    assert.equal(parseTime('10:00:00,5Z'), '10:00:00.5Z');
    assert.equal(parseTime('10:00:00'), null);
    assert.equal(parseTime('25:00:00Z'), null);
  });
});

describe('instant arithmetic', () => {
  test('dateTimeToMillis matches Date.parse', () => {
    assert.equal(dateTimeToMillis('2020-08-01T12:03:00.5Z'), Date.parse('2020-08-01T12:03:00.500Z'));
    assert.equal(dateTimeToMillis('2020-08-01T12:03:00Z'), Date.parse('2020-08-01T12:03:00Z'));
  });

  test('compareDateTime orders instants written with different fraction lengths correctly', () => {
    assert.ok(compareDateTime('2020-08-01T12:03:00Z', '2020-08-01T12:03:00.999Z') < 0);
    assert.equal(compareDateTime('2020-08-01T12:03:00.5Z', '2020-08-01T12:03:00.500000Z'), 0);
    assert.ok(compareDateTime('2020-08-01T12:03:00.000002Z', '2020-08-01T12:03:00.000001Z') > 0);
  });
});
