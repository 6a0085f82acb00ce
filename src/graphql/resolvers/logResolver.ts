import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { authorize, checkpointView, guard, type LedgerContext } from '../context';
import { Checkpoint, ConsistencyProof, InclusionProof, LogInfo, TreeSizePoint } from '../types/log';
import { MAX_HISTORY_POINTS } from '../../log/sizeHistory';
import { bytesToHex } from '../../verify';

@Resolver()
export class LogResolver {
  @Query(() => LogInfo)
  logInfo(@Ctx() ctx: LedgerContext): Promise<LogInfo> {
    return guard(ctx, 'logInfo', () => {
      authorize(ctx, 'readLog');
      return { origin: ctx.ledger.origin, verifierKey: ctx.ledger.verifierKey };
    });
  }

  @Query(() => Checkpoint, { description: 'The signed checkpoint at treeSize (the latest when omitted).' })
  checkpoint(
    @Ctx() ctx: LedgerContext,
    @Arg('treeSize', () => GraphQLSafeInt, { nullable: true }) treeSize?: number,
  ): Promise<Checkpoint> {
    return guard(ctx, 'checkpoint', async () => {
      authorize(ctx, 'readLog');
      const checkpoint = await ctx.ledger.checkpoint(treeSize ?? undefined);
      // With the witnesses' cosignatures of its size; the latest is what GET /checkpoint publishes.
      if (!ctx.witnessing) return checkpointView(ctx.ledger, checkpoint);
      return checkpointView(ctx.ledger, treeSize == null ? await ctx.witnessing.publishable(checkpoint) : await ctx.witnessing.published(checkpoint));
    });
  }

  @Query(() => [TreeSizePoint], {
    description:
      `The log's size at \`points\` (1…${MAX_HISTORY_POINTS}) evenly spaced instants from \`from\` (default: when the first checkpoint was signed) ` +
      'to `to` (default: now), each the size of the last checkpoint signed at or before it; instants before the first checkpoint are left out.',
  })
  logHistory(
    @Ctx() ctx: LedgerContext,
    @Arg('from', () => GraphQLDateTimeISO, { nullable: true }) from?: Date,
    @Arg('to', () => GraphQLDateTimeISO, { nullable: true }) to?: Date,
    @Arg('points', () => Int, { nullable: true, defaultValue: 60 }) points?: number,
  ): Promise<TreeSizePoint[]> {
    return guard(ctx, 'logHistory', () => {
      authorize(ctx, 'readLog');
      return ctx.ledger.sizeHistory({ from: from ?? undefined, to: to ?? undefined, points: points ?? 60 });
    });
  }

  @Query(() => InclusionProof)
  inclusionProof(
    @Ctx() ctx: LedgerContext,
    @Arg('leafIndex', () => GraphQLSafeInt) leafIndex: number,
    @Arg('treeSize', () => GraphQLSafeInt, { nullable: true }) treeSize?: number,
  ): Promise<InclusionProof> {
    return guard(ctx, 'inclusionProof', async () => {
      authorize(ctx, 'readLog');
      const proof = await ctx.ledger.inclusionProof(leafIndex, treeSize ?? undefined);
      return {
        leafIndex,
        treeSize: proof.checkpoint.treeSize,
        leafHash: bytesToHex(proof.leafHash),
        hashes: proof.hashes.map(bytesToHex),
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
    return guard(ctx, 'consistencyProof', async () => {
      authorize(ctx, 'readLog');
      const proof = await ctx.ledger.consistencyProof(fromSize, toSize ?? undefined);
      return {
        fromSize,
        toSize: proof.checkpoint.treeSize,
        hashes: proof.hashes.map(bytesToHex),
        checkpoint: checkpointView(ctx.ledger, proof.checkpoint),
      };
    });
  }
}
