import fc from 'fast-check';
import { directLeafOfFields, directLeafOfValues } from '../../src/event/directLeaf';
import { leafOfFields } from '../../src/event/storedEvent';
import type { EventFields, RawEventValues, StoredEvent } from '../../src/storage/port';
import { eventValues, rawEventOfValues } from '../../src/storage/sqlite/eventRows';

/** Strings with what JSON escapes: quotes, backslashes, controls, line separators, astral and lone surrogates. */
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\u0000', '\u2028', '\ud800', '😀', 'é'));
const odd = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.constant(new Date(Number.NaN)));
/** Mostly well-formed values, sometimes a value of the wrong type or shape (an operator's edit). */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: odd });
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.option(maybe(arb), { nil: undefined });
const instant = fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true });
const json = fc.jsonValue().map((v) => JSON.stringify({ v, z: 1, a: [v] }));

const fields = fc.record(
  {
    id: maybe(text),
    action: maybe(text),
    actor: maybe(fc.record({ id: maybe(text), type: maybe(text), name: optional(text), extra: fc.constant(undefined) }, { requiredKeys: ['id', 'type'] })),
    target: optional(fc.record({ type: maybe(text), id: maybe(text), name: optional(text) }, { requiredKeys: ['type', 'id'] })),
    outcome: maybe(fc.constantFrom('SUCCESS', 'FAILURE', 'DENIED')),
    reason: optional(text),
    occurredAt: optional(instant),
    source: optional(fc.record({ ip: optional(text), userAgent: optional(text), requestId: optional(text), port: fc.constant(undefined) }, { requiredKeys: [] })),
    metadata: optional(fc.oneof(json, fc.constantFrom('{"a":1', '{"b":2,"a":1}', '[1]', '{"a":1} ', ' {}', '"x"'))),
    groups: maybe(fc.array(maybe(text), { maxLength: 4 })),
    recordedAt: maybe(instant),
    salt: maybe(text),
    submitter: optional(fc.record({ keyId: maybe(text), userId: optional(text) }, { requiredKeys: ['keyId'] })),
  },
  { requiredKeys: ['id', 'action', 'actor', 'outcome', 'groups', 'recordedAt', 'salt'] },
);

function reference(f: EventFields): string | undefined {
  try {
    return leafOfFields(f);
  } catch {
    return undefined;
  }
}

describe('directLeafOfFields', () => {
  it('answers only the text leafOfFields gives (the reference), on well-formed and edited fields', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const direct = directLeafOfFields(f as unknown as EventFields);
        if (direct !== undefined) expect(direct).toBe(reference(f as unknown as EventFields));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers for the shape the ledger stores (so verify-db takes the cheap way)', () => {
    let answered = 0;
    fc.assert(
      fc.property(
        fc.record({
          id: fc.uuid(),
          action: fc.string({ minLength: 1 }),
          actor: fc.record({ id: text, type: fc.constantFrom('USER', 'SERVICE'), name: fc.option(text, { nil: undefined }) }),
          outcome: fc.constantFrom('SUCCESS' as const, 'FAILURE' as const, 'DENIED' as const),
          metadata: fc.option(json, { nil: undefined }),
          groups: fc.array(text, { maxLength: 3 }),
          recordedAt: instant,
          salt: fc.string(),
          submitter: fc.option(fc.record({ keyId: text, userId: text }), { nil: undefined }),
        }),
        (f) => {
          const direct = directLeafOfFields(f);
          expect(direct).toBe(leafOfFields(f));
          if (direct !== undefined) answered++;
        },
      ),
    );
    expect(answered).toBeGreaterThan(0);
  });

  it.each([
    ['a metadata text with trailing text', { metadata: '{"a":1},"x":2' }],
    ['a metadata text that is not an object', { metadata: '[1]' }],
    ['an extra key in actor', { actor: { id: 'u', type: 'USER', role: 'x' } }],
    ['a number for a string', { action: 5 }],
    ['a null reason', { reason: null }],
    ['a submitter without its user', { submitter: { keyId: 'k' } }],
    ['an invalid date', { recordedAt: new Date(Number.NaN) }],
  ])('leaves %s to the reference', (_, edit) => {
    const f = { id: 'e', action: 'a', actor: { id: 'u', type: 'USER' }, outcome: 'SUCCESS', groups: [], recordedAt: new Date(0), salt: 's', ...edit };
    const direct = directLeafOfFields(f as unknown as EventFields);
    if (direct !== undefined) expect(direct).toBe(reference(f as unknown as EventFields));
  });
});

/** A JSON text as an operator might leave it: usually what JSON.stringify wrote, sometimes not. */
const jsonText = (value: fc.Arbitrary<unknown>, edits: readonly string[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 24, arbitrary: value.map((v) => JSON.stringify(v)) }, { weight: 2, arbitrary: fc.constantFrom(...edits) }, { weight: 1, arbitrary: odd.filter((o) => o !== null) });
const millis = fc.oneof(
  { weight: 24, arbitrary: instant.map((d) => d.getTime()) },
  { weight: 1, arbitrary: fc.constantFrom(1.5, -0, 8.64e15, 8.64e15 + 1, Number.MAX_SAFE_INTEGER, Number.NaN, '0', 2n) },
);
/** A value, rarely of the wrong type: a row has many, and most rows should be well-formed but for one edit. */
const value = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: odd });
/** Null (absent) or a value, rarely of the wrong type. */
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.option(value(arb), { nil: null });

/** Mostly strings JSON writes without escapes (group ids and sources are spliced as stored only then). */
const mostlyPlain = fc.oneof({ weight: 4, arbitrary: fc.string() }, { weight: 1, arbitrary: text });

/** A stored row in RawEventValues order, its leaf hash as bytes (the adapter's raw record reads it so). */
const values = fc.tuple(
  fc.nat(),
  value(text),
  value(text),
  value(text),
  value(fc.constantFrom('USER', 'SERVICE')),
  nullable(text),
  nullable(text),
  nullable(text),
  nullable(text),
  value(fc.constantFrom('SUCCESS', 'FAILURE', 'DENIED')),
  nullable(text),
  fc.option(millis, { nil: null }),
  fc.option(
    jsonText(
      fc.oneof(
        fc.record({ ip: fc.option(mostlyPlain, { nil: undefined }), requestId: fc.option(mostlyPlain, { nil: undefined }), userAgent: fc.option(mostlyPlain, { nil: undefined }) }, { requiredKeys: [] }),
        // The order the server sets them in.
        fc.record({ ip: fc.option(mostlyPlain, { nil: undefined }), userAgent: fc.option(mostlyPlain, { nil: undefined }), requestId: fc.option(mostlyPlain, { nil: undefined }) }, { requiredKeys: [] }),
      ),
      [
        '{"userAgent":"u","ip":"i","userAgent":"v"}',
        '{"requestId":"r","requestId":"s"}',
        '{"userAgent":"u","ip":"\\u0041"}',
        '{"requestId":"r","ip":"i"}',
        '{"ip":"i","ip":"j"}',
        '{"ip":1}',
        '{"port":"p"}',
        '{ "ip":"i"}',
        '{"ip":"\\u0041"}',
        '{"ip":"\\/"}',
        '[]',
      ],
    ),
    { nil: null },
  ),
  fc.option(fc.oneof(json, fc.constantFrom('{"a":1', '{"b":2,"a":1}', '[1]', '{"a":1} ', ' {}', '"x"')), { nil: null }),
  jsonText(fc.array(mostlyPlain, { maxLength: 3 }), ['["a", "b"]', '["a",1]', '{"a":"b"}', '["\\u0041"]', '["\\ud83d\\ude00"]', '["\\/"]', '["a"', '[]', '[""]']),
  millis,
  value(text),
  nullable(text),
  nullable(text),
);

describe('directLeafOfValues', () => {
  /** The adapter's record of a row (its leaf and leaf hash do not enter the leaf). */
  const fieldsOf = (v: readonly unknown[]): EventFields =>
    rawEventOfValues([...v, 'leaf', new Uint8Array(32), null, null]).fields as unknown as EventFields;

  it('answers only the text the reference gives for the record an adapter maps the values to', () => {
    let answered = 0;
    fc.assert(
      fc.property(values, (v) => {
        const direct = directLeafOfValues([...v, 'leaf', null] as unknown as RawEventValues);
        if (direct === undefined) return;
        answered++;
        expect(direct).toBe(reference(fieldsOf(v)));
      }),
      { numRuns: 10_000 },
    );
    // Not vacuous: a fair share of the rows are well-formed enough to be answered (about a fifth).
    expect(answered).toBeGreaterThan(1000);
  });

  it('answers for every event as the ledger stores it (so verify-db builds no record for it)', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.uuid(),
          action: fc.string({ minLength: 1 }),
          actor: fc.record({ id: text, type: fc.constantFrom('USER' as const, 'SERVICE' as const), name: fc.option(text, { nil: undefined }) }, { requiredKeys: ['id', 'type'] }),
          target: fc.option(fc.record({ type: text, id: text, name: fc.option(text, { nil: undefined }) }, { requiredKeys: ['type', 'id'] }), { nil: undefined }),
          outcome: fc.constantFrom('SUCCESS' as const, 'FAILURE' as const, 'DENIED' as const),
          reason: fc.option(text, { nil: undefined }),
          occurredAt: fc.option(instant, { nil: undefined }),
          source: fc.option(fc.record({ ip: fc.string(), requestId: fc.string(), userAgent: fc.string() }, { requiredKeys: [] }), { nil: undefined }),
          metadata: fc.option(json, { nil: undefined }),
          groups: fc.array(fc.string(), { maxLength: 3 }),
          recordedAt: instant,
          salt: fc.string(),
          submitter: fc.option(fc.record({ keyId: text, userId: text }), { nil: undefined }),
        }),
        (e) => {
          const stored = { ...e, leafIndex: 7, leaf: '', leafHash: new Uint8Array(32) } as unknown as StoredEvent;
          const row = eventValues(stored).slice(0, 20);
          const leaf = leafOfFields(fieldsOf(row));
          // Plain strings (no escapes, no surrogates) in group ids and source: spliced as stored.
          expect(directLeafOfValues([...row, leaf, null] as unknown as RawEventValues)).toBe(leaf);
        },
      ),
    );
  });
});
