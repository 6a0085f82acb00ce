import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as verify from '../../src/verify';

const verifyDir = join(__dirname, '../../src/verify');

describe('audit-ledger/verify', () => {
  it('exports the public API', () => {
    for (const name of [
      'leafHash',
      'nodeHash',
      'emptyRoot',
      'verifyInclusion',
      'rootFromInclusionProof',
      'verifyConsistency',
      'parseCheckpoint',
      'parseCheckpointBody',
      'verifyCheckpoint',
      'formatCheckpointBody',
      'parseNote',
      'verifyNote',
      'parseVerifierKey',
      'VerificationError',
      'hexToBytes',
      'bytesToHex',
      'parseWitnessKey',
      'verifyCosignatures',
      'createWitnessPolicy',
      'parseWitnessPolicy',
      'evaluateWitnessPolicy',
      'assertWitnessPolicy',
      'verifyCosignedCheckpoint',
      'WitnessQuorumError',
    ]) {
      expect(typeof (verify as Record<string, unknown>)[name]).toBe('function');
    }
  });

  it('exports the portable hasher', () => {
    expect(verify.rfc6962.emptyRoot()).toEqual(verify.emptyRoot());
  });

  it('round-trips hex for GraphQL clients', () => {
    expect(verify.bytesToHex(verify.hexToBytes('00ff10'))).toBe('00ff10');
  });

  it('uses no Node-only APIs, so it runs in browsers', () => {
    for (const file of readdirSync(verifyDir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(verifyDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([file, source.match(/\bBuffer\b|['"]node:|['"](crypto|fs|path|util)['"]|\bprocess\.|\brequire\(/g)]).toEqual([file, null]);
      // Only the portable crypto libraries and sibling modules.
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
        expect([file, spec]).toEqual([file, expect.stringMatching(/^(\.\/[\w]+|@noble\/hashes\/[\w]+\.js|@noble\/curves\/ed25519\.js|@scure\/base)$/)]);
      }
    }
  });

  it('raises VerificationError with name and code', () => {
    const error = new verify.VerificationError('ROOT_MISMATCH', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('VerificationError');
    expect(error.code).toBe('ROOT_MISMATCH');
  });
});
