/**
 * An event's stored fields and its leaf: what the sequencer builds from a request's content
 * is exactly what its leaf reads back as (fieldsOfLeaf), absent optional fields stay absent,
 * and the record shares no object with the content it was made from.
 */
import fc from 'fast-check';
import type { EventContent } from '../../src/event/eventRecord';
import { fieldsOfLeaf } from '../../src/event/storedEvent';
import { buildEvent } from '../../src/log/eventBuilder';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';

const text = fc.oneof(fc.string(), fc.constantFrom('"', '\\', '\u2028', '😀'));
const content: fc.Arbitrary<EventContent> = fc.record(
  {
    action: fc.string({ minLength: 1 }),
    actor: fc.record({ id: text, type: fc.constantFrom('USER', 'SERVICE', 'SYSTEM'), name: text }, { requiredKeys: ['id', 'type'] }),
    target: fc.record({ type: text, id: text, name: text }, { requiredKeys: ['type', 'id'] }),
    outcome: fc.constantFrom('SUCCESS', 'FAILURE', 'DENIED'),
    reason: text,
    occurredAt: fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString()),
    source: fc.record({ ip: text, userAgent: text, requestId: text }, { requiredKeys: [] }),
    metadata: fc.dictionary(text, fc.jsonValue()),
    groups: fc.array(text, { maxLength: 4 }),
    submitter: fc.record({ keyId: text, userId: text }),
  },
  { requiredKeys: ['action', 'actor', 'outcome', 'groups'] },
) as fc.Arbitrary<EventContent>;

describe('buildEvent and fieldsOfLeaf', () => {
  it('the fields an event is stored with are the fields its leaf reads back as (metadata up to key order), with no undefined-valued key', () => {
    fc.assert(
      fc.property(content, fc.nat({ max: 1e6 }), (c, leafIndex) => {
        const event = buildEvent({ content: c, leafIndex, recordedAt: 1_700_000_000_000 + leafIndex }, nodeCryptoRfc6962);
        const { leafIndex: index, leaf, leafHash, ...fields } = event;
        expect(index).toBe(leafIndex);
        expect(leafHash).toEqual(nodeCryptoRfc6962.leafHash(new TextEncoder().encode(leaf)));
        // Metadata is stored as the client ordered its keys; the leaf holds it canonical (RFC 8785).
        const { metadata: readMetadata, ...read } = fieldsOfLeaf(leaf);
        const { metadata, ...rest } = fields;
        expect(read).toEqual(rest);
        expect(readMetadata === undefined ? undefined : JSON.parse(readMetadata)).toStrictEqual(metadata === undefined ? undefined : JSON.parse(metadata));
        expect(Object.values(fields).some((v) => v === undefined)).toBe(false);
        for (const key of ['target', 'reason', 'occurredAt', 'source', 'metadata', 'submitter'] as const) {
          expect(key in fields).toBe(c[key] !== undefined);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the record shares no actor, groups or submitter object with the content', () => {
    const c: EventContent = {
      action: 'a',
      actor: { id: 'u', type: 'USER' },
      outcome: 'SUCCESS',
      groups: ['g'],
      submitter: { keyId: 'k', userId: 'u' },
    };
    const event = buildEvent({ content: c, leafIndex: 0, recordedAt: 0 }, nodeCryptoRfc6962);
    expect(event.actor).not.toBe(c.actor);
    expect(event.groups).not.toBe(c.groups);
    expect(event.submitter).not.toBe(c.submitter);
    expect(event).toMatchObject({ actor: c.actor, groups: c.groups, submitter: c.submitter });
  });
});
