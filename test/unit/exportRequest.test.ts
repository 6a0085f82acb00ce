/**
 * The query parameters of GET /export: the GraphQL EventFilter's fields under the contract's
 * names, and a clear refusal (naming the parameter) of anything else; and RFC 4180 CSV fields.
 */
import { EventInputError } from '../../src/event/eventInput';
import { parseExportRequest } from '../../src/export/exportRequest';
import { csvField } from '../../src/export/exportRows';

const parse = (query: string) => parseExportRequest(new URLSearchParams(query));

describe('export parameters', () => {
  it('defaults to NDJSON of every readable event at the latest size', () => {
    expect(parse('')).toEqual({ format: 'ndjson', filter: {}, proofs: false });
  });

  it('maps every filter onto the GraphQL EventFilter', () => {
    expect(
      parse('format=bundle&groupId=a&groupId=b&groupId=a&actorId=u-1&action=user.role.*&targetType=doc&targetId=t-1&outcome=DENIED&since=2026-01-01&until=2026-02-01T12:00:00%2B02:00&limit=10&treeSize=99'),
    ).toEqual({
      format: 'bundle',
      filter: {
        groupIds: ['a', 'b'],
        actorId: 'u-1',
        actionPrefix: 'user.role.',
        targetType: 'doc',
        targetId: 't-1',
        outcome: 'DENIED',
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-02-01T10:00:00Z'),
      },
      limit: 10,
      treeSize: 99,
      proofs: false,
    });
    expect(parse('action=invoice.refund').filter).toEqual({ action: 'invoice.refund' });
    expect(parse('format=ndjson&proofs=true').proofs).toBe(true);
  });

  it.each([
    ['format=xml', 'format'],
    ['format=csv&format=csv', 'format'],
    ['colour=blue', 'colour'],
    ['actorId=', 'actorId'],
    [`actorId=${'x'.repeat(257)}`, 'actorId'],
    ['action=user.*.grant', 'action'],
    ['outcome=success', 'outcome'],
    ['since=yesterday', 'since'],
    ['since=2026-01-01T10:00', 'since'],
    ['until=2026-02-30T00:00:00Z', 'until'],
    ['since=2026-02-01&until=2026-01-01', 'until'],
    ['limit=0', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=99999999999999999', 'limit'],
    ['treeSize=-1', 'treeSize'],
    ['proofs=yes', 'proofs'],
    ['format=csv&proofs=true', 'proofs'],
    [Array.from({ length: 65 }, (_, i) => `groupId=g${i}`).join('&'), 'groupId'],
  ])('refuses %s, naming %s', (query, field) => {
    let error: unknown;
    try {
      parse(query);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventInputError);
    expect((error as EventInputError).field).toBe(field);
    expect((error as EventInputError).code).toBe('BAD_INPUT');
  });
});

describe('CSV fields (RFC 4180)', () => {
  it('quotes a field holding a quote, comma, CR or LF, doubling its quotes; leaves others as they are', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('')).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('=1+1')).toBe('=1+1');
  });
});
