import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The log\'s identity: what checkpoints are signed as, and the key to verify them with.' })
export class LogInfo {
  @Field(() => String, { description: 'The checkpoint origin line.' })
  origin!: string;

  @Field(() => String, { description: 'The C2SP note verifier key (name+hex8+base64).' })
  verifierKey!: string;
}

@ObjectType({ description: 'A signed tree head (C2SP tlog-checkpoint in a C2SP signed note).' })
export class Checkpoint {
  @Field(() => String)
  origin!: string;

  @Field(() => GraphQLSafeInt)
  treeSize!: number;

  @Field(() => String, { description: 'RFC 6962 root hash, lowercase hex.' })
  rootHash!: string;

  @Field(() => String, { description: 'The exact signed note text.' })
  note!: string;
}

@ObjectType({ description: 'RFC 9162 inclusion proof of one leaf in the tree of `treeSize` leaves.' })
export class InclusionProof {
  @Field(() => GraphQLSafeInt)
  leafIndex!: number;

  @Field(() => GraphQLSafeInt)
  treeSize!: number;

  @Field(() => String, { description: 'RFC 6962 leaf hash, lowercase hex.' })
  leafHash!: string;

  @Field(() => [String], { description: 'Audit path, lowercase hex, leaf to root.' })
  hashes!: string[];

  @Field(() => Checkpoint, { description: 'The signed checkpoint at treeSize.' })
  checkpoint!: Checkpoint;
}

@ObjectType({ description: 'RFC 9162 consistency proof that the tree of fromSize leaves is a prefix of the tree of toSize leaves.' })
export class ConsistencyProof {
  @Field(() => GraphQLSafeInt)
  fromSize!: number;

  @Field(() => GraphQLSafeInt)
  toSize!: number;

  @Field(() => [String])
  hashes!: string[];

  @Field(() => Checkpoint, { description: 'The signed checkpoint at toSize.' })
  checkpoint!: Checkpoint;
}

@ObjectType({ description: 'Proof that an event was durably recorded and is covered by a signed checkpoint.' })
export class Receipt {
  @Field(() => String)
  eventId!: string;

  @Field(() => GraphQLSafeInt)
  leafIndex!: number;

  @Field(() => String, { description: 'RFC 6962 leaf hash of `leaf`, lowercase hex.' })
  leafHash!: string;

  @Field(() => String, {
    description: 'The canonical leaf text (RFC 8785 JSON) of the recorded event, also on a retry: with the proof, it shows what was recorded and where.',
  })
  leaf!: string;

  @Field(() => InclusionProof)
  inclusionProof!: InclusionProof;
}

@ObjectType({ description: "One sample of the log's size over time, from the server's checkpoint archive." })
export class TreeSizePoint {
  @Field(() => GraphQLDateTimeISO, { description: 'The sampled instant.' })
  at!: Date;

  @Field(() => GraphQLSafeInt, { description: 'The size of the last checkpoint signed at or before `at`.' })
  treeSize!: number;

  @Field(() => GraphQLDateTimeISO, { description: 'When that checkpoint was signed.' })
  signedAt!: Date;
}
