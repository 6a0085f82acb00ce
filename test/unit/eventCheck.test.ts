import fc from 'fast-check';
import { type CheckedEvent, checkEvent, checkEventExactly, leafHashOfText } from '../../src/integrity/eventCheck';
import { leafOfFields } from '../../src/event/storedEvent';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';

type StoredEvent = CheckedEvent;

function stored(fields: Omit<StoredEvent, 'leaf' | 'leafHash'>): StoredEvent {
  const leaf = leafOfFields(fields);
  return { ...fields, leaf, leafHash: leafHashOfText(leaf) };
}

const base = () =>
  stored({
    id: 'e1',
    action: 'user.login',
    actor: { id: 'u1', type: 'USER', name: 'Ann' },
    target: { type: 'doc', id: 'd1' },
    outcome: 'SUCCESS',
    reason: 'because',
    occurredAt: new Date('2025-01-01T00:00:00.000Z'),
    source: { ip: '127.0.0.1', requestId: 'r1' },
    metadata: JSON.stringify({ z: [1, { b: 'x', a: null }], a: 'ü\u2028' }),
    groups: ['g1', 'g2'],
    recordedAt: new Date('2025-01-01T00:00:01.000Z'),
    salt: 'ab'.repeat(16),
  });

/** Edits an operator could make to the fields (never to the leaf text). */
const fieldEdits: fc.Arbitrary<(d: StoredEvent) => StoredEvent> = fc.oneof(
  fc.string().map((s) => (d: StoredEvent) => ({ ...d, action: s })),
  fc.string().map((s) => (d: StoredEvent) => ({ ...d, actor: { ...d.actor, id: s } })),
  fc.constant((d: StoredEvent) => ({ ...d, actor: { ...d.actor, extra: 'x' } as StoredEvent['actor'] })),
  fc.constant((d: StoredEvent) => ({ ...d, actor: { id: d.actor.id, type: d.actor.type } })),
  fc.constant((d: StoredEvent) => ({ ...d, reason: undefined })),
  fc.constant((d: StoredEvent) => ({ ...d, outcome: 'DENIED' as const })),
  fc.constant((d: StoredEvent) => ({ ...d, groups: [...d.groups].reverse() })),
  fc.constant((d: StoredEvent) => ({ ...d, metadata: JSON.stringify({ a: 'ü\u2028', z: [1, { a: null, b: 'x' }] }) })),
  fc.constant((d: StoredEvent) => ({ ...d, metadata: '{"a":1' })),
  fc.constant((d: StoredEvent) => ({ ...d, occurredAt: '2025-01-01' as unknown as Date })),
  fc.integer().map((n) => (d: StoredEvent) => ({ ...d, recordedAt: new Date(d.recordedAt.getTime() + n) })),
  fc.constant((d: StoredEvent) => ({ ...d, leafHash: new Uint8Array(32) })),
  fc.constant((d: StoredEvent) => {
    // A consistent rewrite of fields, leaf and hash (only possible while the fields still form an event).
    let leaf: string;
    try {
      leaf = leafOfFields({ ...d, action: 'other' });
    } catch {
      return d;
    }
    return { ...d, action: 'other', leaf, leafHash: nodeCryptoRfc6962.leafHash(new TextEncoder().encode(leaf)) };
  }),
);

describe('the event document check', () => {
  it('accepts an untouched document with the leaf hash the server computed', () => {
    const doc = base();
    expect(checkEvent(doc)).toEqual({ leafHash: doc.leafHash, problem: undefined });
  });

  it('decides exactly as canonicalising with leafOfFields does, for any edit to the fields', () => {
    fc.assert(
      fc.property(fc.array(fieldEdits, { maxLength: 3 }), (edits) => {
        const doc = edits.reduce((d, edit) => edit(d), base());
        expect(checkEvent(doc)).toEqual(checkEventExactly(doc));
      }),
    );
  });

  it('names what is wrong', () => {
    expect(checkEvent({ ...base(), action: 'x' }).problem).toBe('its fields do not match its stored leaf text');
    expect(checkEvent({ ...base(), leafHash: new Uint8Array(32) }).problem).toBe('its stored leaf hash does not match its leaf');
    expect(checkEvent({ ...base(), metadata: '{' }).problem).toMatch(/^its fields do not form an event/);
  });
});
