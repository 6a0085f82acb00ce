/** Server-side Merkle tree maths over stored complete-subtree hashes. Pure: no I/O. */
export { NodeCountError, ProofRangeError } from './errors';
export { nodeBegin, nodeEnd, nodeId, parent, rangeNodes, sameNode, sibling, type NodeId } from './nodeId';
export { nodeCryptoRfc6962 } from './nodeHasher';
export {
  consistencyNodes,
  consistencyProof,
  inclusionNodes,
  inclusionProof,
  rootFromNodes,
  rootHash,
  rootNodes,
  type ProofNodes,
  type SubtreeReader,
} from './proof';
export { CompactRange, type NodeVisitor } from './compactRange';
