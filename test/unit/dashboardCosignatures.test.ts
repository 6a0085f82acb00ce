import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { checkpointCosignatures } from '../../web/src/verification';
import { createTestCosigner } from '../support/testCosigner';

describe("the dashboard's cosignature list", () => {
  const log = generateSignerKey('dash.example/log');
  const note = signCheckpoint({ origin: 'dash.example/log', treeSize: 3, rootHash: new Uint8Array(32) }, log.signerKey);
  const pinned = createTestCosigner('pinned.example/w');
  const absent = createTestCosigner('absent.example/w');
  const stranger = createTestCosigner('stranger.example/w');
  const T = 1_767_225_600;

  it('checks pinned witnesses, lists the others as unverified and leaves out the log signature', () => {
    const cosigned = stranger.cosign(pinned.cosign(note, T), T + 1);
    expect(checkpointCosignatures(cosigned, [pinned.verifierKey, absent.verifierKey, 'not a key'])).toEqual([
      { name: 'pinned.example/w', status: 'valid', timestamp: T },
      { name: 'absent.example/w', status: 'absent' },
      { name: 'stranger.example/w', status: 'unverified', timestamp: T + 1 },
    ]);
  });

  it('shows a cosignature of another checkpoint as invalid for a pinned witness', () => {
    const other = signCheckpoint({ origin: 'dash.example/log', treeSize: 4, rootHash: new Uint8Array(32) }, log.signerKey);
    const forged = note + pinned.line(`${other.slice(0, other.lastIndexOf('\n\n'))}\n`, T);
    expect(checkpointCosignatures(forged, [pinned.verifierKey])).toEqual([{ name: 'pinned.example/w', status: 'invalid', timestamp: T }]);
  });

  it('lists nothing for a note it cannot read', () => {
    expect(checkpointCosignatures('garbage', [pinned.verifierKey])).toEqual([]);
  });
});
