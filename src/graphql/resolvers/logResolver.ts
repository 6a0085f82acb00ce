import { GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import { authorize, checkpointView, type LedgerContext, mapErrors, toHex } from '../context';
import { Checkpoint, ConsistencyProof, InclusionProof, LogInfo } from '../types/log';

@Resolver()
export class LogResolver {
  @Query(() => LogInfo)
  logInfo(@Ctx() ctx: LedgerContext): LogInfo {
    authorize(ctx, 'readLog');
    return { origin: ctx.ledger.origin, verifierKey: ctx.ledger.verifierKey };
  }

  @Query(() => Checkpoint, { description: 'The signed checkpoint at treeSize (the latest when omitted).' })
  checkpoint(
    @Ctx() ctx: LedgerContext,
    @Arg('treeSize', () => GraphQLSafeInt, { nullable: true }) treeSize?: number,
  ): Promise<Checkpoint> {
    authorize(ctx, 'readLog');
    return mapErrors(async () => checkpointView(ctx.ledger, await ctx.ledger.checkpoint(treeSize ?? undefined)));
  }

  @Query(() => InclusionProof)
  inclusionProof(
    @Ctx() ctx: LedgerContext,
    @Arg('leafIndex', () => GraphQLSafeInt) leafIndex: number,
    @Arg('treeSize', () => GraphQLSafeInt, { nullable: true }) treeSize?: number,
  ): Promise<InclusionProof> {
    authorize(ctx, 'readLog');
    return mapErrors(async () => {
      const proof = await ctx.ledger.inclusionProof(leafIndex, treeSize ?? undefined);
      return {
        leafIndex,
        treeSize: proof.checkpoint._id,
        leafHash: toHex(proof.event.leafHash.buffer),
        hashes: proof.hashes.map(toHex),
        checkpoint: checkpointView(ctx.ledger, proof.checkpoint),
      };
    });
  }

  @Query(() => ConsistencyProof)
  consistencyProof(
    @Ctx() ctx: LedgerContext,
    @Arg('fromSize', () => GraphQLSafeInt) fromSize: number,
    @Arg('toSize', () => GraphQLSafeInt, { nullable: true }) toSize?: number,
  ): Promise<ConsistencyProof> {
    authorize(ctx, 'readLog');
    return mapErrors(async () => {
      const proof = await ctx.ledger.consistencyProof(fromSize, toSize ?? undefined);
      return {
        fromSize,
        toSize: proof.checkpoint._id,
        hashes: proof.hashes.map(toHex),
        checkpoint: checkpointView(ctx.ledger, proof.checkpoint),
      };
    });
  }
}
