import type { ServedEvent } from '../../src/audit/logClient';
import { servedEventProblem } from '../../src/audit/servedEvent';
import { eventLeaf } from '../../src/event/eventRecord';
import { bytesToHex, leafHash } from '../../src/verify';

function served(): ServedEvent {
  const event = {
    id: 'e1',
    action: 'user.login',
    actor: { id: 'u1', type: 'USER' as const },
    outcome: 'SUCCESS' as const,
    source: { ip: '127.0.0.1' },
    metadata: { b: 1, a: [true, null] },
    groups: ['g'],
    recordedAt: '2025-01-02T03:04:05.006Z',
    salt: '0'.repeat(32),
    submitter: { keyId: 'k1', userId: 'u9' },
  };
  const leaf = eventLeaf(event);
  return {
    ...event,
    leafIndex: 4,
    leaf,
    leafHash: bytesToHex(leafHash(new TextEncoder().encode(leaf))),
    actor: { ...event.actor, name: null },
    target: null,
    reason: null,
    occurredAt: null,
    source: { ip: '127.0.0.1', userAgent: null, requestId: null },
  };
}

describe('a served event', () => {
  it('is accepted when its fields, leaf and leaf hash agree', () => {
    expect(servedEventProblem(served())).toBeUndefined();
  });

  it('is rejected when a served field differs from the leaf', () => {
    expect(servedEventProblem({ ...served(), actor: { id: 'mallory', type: 'USER', name: null } })).toBe(
      'leaf 4: the fields served differ from its leaf text',
    );
    expect(servedEventProblem({ ...served(), reason: 'added later' })).toContain('differ');
    // Provenance is part of the leaf: a served submitter that is not the committed one is caught.
    expect(servedEventProblem({ ...served(), submitter: { keyId: 'k2', userId: 'u9' } })).toContain('differ');
    expect(servedEventProblem({ ...served(), submitter: null })).toContain('differ');
  });

  it('is rejected when the leaf text does not hash to the leaf hash', () => {
    const event = served();
    expect(servedEventProblem({ ...event, leaf: event.leaf!.replace('user.login', 'user.logout') })).toContain('does not hash to');
  });

  it('has nothing to check on a redacted event (its leaf hash is proven by the caller), but a missing leaf must be declared', () => {
    const event = served();
    expect(servedEventProblem({ ...event, leaf: null, salt: null, redacted: true, redaction: { leafIndex: 9, reason: 'GDPR' } })).toBeUndefined();
    expect(servedEventProblem({ ...event, leaf: null, salt: null, redacted: false })).toContain('not as redacted');
    expect(servedEventProblem({ ...event, leaf: null, salt: null })).toContain('not as redacted');
  });
});
