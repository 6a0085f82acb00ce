/**
 * Every query shape of the mongodb adapter (src/storage/mongodb/indexPlan.ts) is answered from
 * the index the plan names, never by a collection scan: checked with `explain` on a real
 * MongoDB, seeded with a few thousand events so the planner has data to choose by.
 *
 * Runs only when LEDGER_TEST_MONGODB_URI names a MongoDB (a replica set, since the adapter
 * reads with majority read concern). Never on FerretDB: its explain does not show index use.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Document } from 'mongodb';
import { isFerretDb } from '../../src/storage/mongodb/collections';
import { connectClient } from '../../src/storage/mongodb/client';
import { ALL_COLLECTIONS, EVENTS_COLLECTION } from '../../src/storage/mongodb/documents';
import { countPipeline, pageFind } from '../../src/storage/mongodb/eventQueries';
import { PLAN_SAMPLE, PRIMARY_INDEX, QUERY_PLAN, type QueryShape } from '../../src/storage/mongodb/indexPlan';
import { openMongoStorage } from '../../src/storage/mongodb/mongoStorage';
import type { LedgerStorage, StoredEvent } from '../../src/storage/port';

const realMongoUri = process.env.LEDGER_TEST_MONGODB_URI;
const SEEDED_EVENTS = 3000;

describe('the mongodb index plan', () => {
  it('names only indexes the collections declare', () => {
    const declared = new Set([PRIMARY_INDEX, ...ALL_COLLECTIONS.flatMap((c) => c.indexes.map((i) => String(i.options?.name)))]);
    for (const shape of QUERY_PLAN) {
      expect(shape.indexes.length).toBeGreaterThan(0);
      for (const index of shape.indexes) expect({ shape: shape.name, index, declared: declared.has(index) }).toEqual({ shape: shape.name, index, declared: true });
    }
  });
});

describe('reading explain output', () => {
  it('takes the winning plan only, in the classic, slot-based, aggregation and express forms', () => {
    const classic = {
      queryPlanner: {
        winningPlan: { stage: 'LIMIT', inputStage: { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: 'actor_leaf' } } },
        rejectedPlans: [{ stage: 'COLLSCAN' }, { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: '_id_' } }],
      },
    };
    expect(usedPlan(classic)).toEqual({ stages: ['LIMIT', 'FETCH', 'IXSCAN'], indexes: ['actor_leaf'] });
    const slotBased = {
      explainVersion: '2',
      queryPlanner: {
        winningPlan: {
          queryPlan: { stage: 'GROUP', inputStage: { stage: 'SORT_MERGE', inputStages: [{ stage: 'IXSCAN', indexName: 'groups_leaf' }, { stage: 'IXSCAN', indexName: 'groups_leaf' }] } },
          slotBasedPlan: { stages: '[2] group ... [1] ixseek ...' },
        },
        rejectedPlans: [],
      },
    };
    expect(usedPlan(slotBased).indexes).toEqual(['groups_leaf']);
    const aggregation = { stages: [{ $cursor: { queryPlanner: { winningPlan: { stage: 'PROJECTION_SIMPLE', inputStage: { stage: 'COLLSCAN' } } } } }, { $group: {} }] };
    expect(usedPlan(aggregation)).toEqual({ stages: ['PROJECTION_SIMPLE', 'COLLSCAN'], indexes: [] });
    expect(usedPlan({ queryPlanner: { winningPlan: { stage: 'IDHACK' } } }).indexes).toEqual([PRIMARY_INDEX]);
    expect(usedPlan({ queryPlanner: { winningPlan: { stage: 'EXPRESS_IXSCAN', indexName: 'id_unique' } } }).indexes).toEqual(['id_unique']);
  });
});

if (!realMongoUri) {
  describe('the mongodb index plan, explained by MongoDB', () => {
    it('is skipped: LEDGER_TEST_MONGODB_URI is unset', () => {
      console.info(
        'skipped the explain check of src/storage/mongodb/indexPlan.ts: set LEDGER_TEST_MONGODB_URI to a MongoDB replica set ' +
          '(e.g. mongodb://127.0.0.1:27017/?replicaSet=rs0) to run it. FerretDB cannot stand in: its explain does not show index use.',
      );
    });
  });
} else {
  describe('the mongodb index plan, explained by MongoDB', () => {
    const dbName = `explain_${randomBytes(6).toString('hex')}`;
    const client = connectClient(realMongoUri);
    let db: Db;
    let storage: LedgerStorage;

    beforeAll(async () => {
      await client.connect();
      db = client.db(dbName);
      if (await isFerretDb(db)) throw new Error('LEDGER_TEST_MONGODB_URI names a FerretDB: the explain check needs a real MongoDB');
      storage = await openMongoStorage({ uri: realMongoUri, dbName, create: true });
      await seed(storage);
    }, 120_000);

    afterAll(async () => {
      await storage?.close();
      await db?.dropDatabase().catch(() => undefined);
      await client.close();
    });

    it.each(QUERY_PLAN.map((shape) => [shape.name, shape] as const))('%s', async (_name, shape) => {
      const plan = usedPlan(await explain(db, shape));
      expect({ shape: shape.name, stages: plan.stages.filter((s) => s === 'COLLSCAN') }).toEqual({ shape: shape.name, stages: [] });
      expect(plan.indexes.length).toBeGreaterThan(0);
      for (const index of plan.indexes) {
        expect({ shape: shape.name, index, expected: shape.indexes.includes(index) }).toEqual({ shape: shape.name, index, expected: true });
      }
    });
  });
}

async function explain(db: Db, shape: QueryShape): Promise<Document> {
  switch (shape.kind) {
    case 'eventPage': {
      const find = pageFind(shape.query);
      if (!find) throw new Error(`${shape.name}: the sample query matches nothing, so there is no query to plan`);
      return db.collection(EVENTS_COLLECTION.name).find(find.filter as Document).sort(find.sort).limit(find.limit).explain('queryPlanner');
    }
    case 'eventCount': {
      const pipeline = countPipeline(shape.key, shape.query, shape.treeSize);
      if (!pipeline) throw new Error(`${shape.name}: the sample query matches nothing, so there is no query to plan`);
      return db.collection(EVENTS_COLLECTION.name).aggregate(pipeline).explain('queryPlanner');
    }
    case 'find': {
      let cursor = db.collection(shape.collection).find(shape.filter);
      if (shape.sort) cursor = cursor.sort(shape.sort);
      if (shape.limit !== undefined) cursor = cursor.limit(shape.limit);
      return cursor.explain('queryPlanner');
    }
  }
}

/** Stages that read by primary key without naming the index in every server version. */
const PRIMARY_KEY_STAGES = new Set(['IDHACK', 'EXPRESS_IXSCAN', 'EXPRESS_CLUSTERED_IXSCAN']);

/** The stages and indexes of every winning plan in an explain (find, or an aggregation's cursor stage). */
function usedPlan(explained: Document): { stages: string[]; indexes: string[] } {
  const stages: string[] = [];
  const indexes: string[] = [];
  const walkPlan = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walkPlan);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.stage === 'string') {
      stages.push(record.stage);
      if (typeof record.indexName === 'string') indexes.push(record.indexName);
      else if (PRIMARY_KEY_STAGES.has(record.stage)) indexes.push(PRIMARY_INDEX);
    }
    for (const [key, value] of Object.entries(record)) if (key !== 'rejectedPlans') walkPlan(value);
  };
  const findWinning = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(findWinning);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'winningPlan') walkPlan(value);
      else if (key !== 'rejectedPlans') findWinning(value);
    }
  };
  findWinning(explained);
  return { stages, indexes: [...new Set(indexes)] };
}

/** Events spread over the sample's values (and others), plus every small collection's documents. */
async function seed(storage: LedgerStorage): Promise<void> {
  const start = PLAN_SAMPLE.from.getTime() - 10 * 60_000;
  const actions = ['user.login', 'user.logout', 'user.role.grant', 'user.role.revoke', 'document.read', 'document.write'];
  const events: StoredEvent[] = [];
  for (let i = 0; i < SEEDED_EVENTS; i++) {
    events.push({
      leafIndex: i,
      id: `event-${i}`,
      action: actions[i % actions.length]!,
      actor: { id: `actor-${i % 10}`, type: 'USER' },
      ...(i % 3 !== 0 && { target: { type: i % 2 === 0 ? 'document' : 'folder', id: `doc-${i % 20}` } }),
      outcome: i % 50 === 0 ? 'DENIED' : i % 7 === 0 ? 'FAILURE' : 'SUCCESS',
      groups: [`group-${i % 10}`, ...(i % 4 === 0 ? [`group-${(i + 3) % 10}`] : [])],
      recordedAt: new Date(start + i * 1000),
      salt: i.toString(16).padStart(32, '0'),
      leaf: `{"seed":${i}}`,
      leafHash: new Uint8Array(32).fill(i % 256),
      ...(i % 5 === 0 && { idempotencyKey: `k:key-1:retry-${i}`, contentDigest: 'ab'.repeat(32) }),
    });
  }
  for (let i = 0; i < events.length; i += 500) await storage.events.append(events.slice(i, i + 500));
  await storage.tiles.write([{ level: 0, index: 3, hashes: new Uint8Array(64) }]);
  const checkpoint = { treeSize: SEEDED_EVENTS, rootHash: 'ab'.repeat(32), note: 'note', createdAt: new Date() };
  await storage.checkpoints.save(checkpoint);
  await storage.head.advance(checkpoint, start + SEEDED_EVENTS * 1000);
  await storage.lease.acquire('process-1', 10_000);
  const now = new Date();
  for (let u = 0; u < 50; u++) {
    await storage.users.insert({ id: `user-${u}`, name: `User ${u}`, type: 'HUMAN', externalId: `ext-${u}`, status: 'ACTIVE', createdAt: now, updatedAt: now });
  }
  for (let g = 0; g < 20; g++) {
    await storage.groups.insert({ id: `group-${g}`, name: `Group ${g}`, nameKey: `group ${g}`, description: null, members: [`user-${g}`, `user-${g + 1}`], createdAt: now });
  }
  for (let k = 0; k < 20; k++) {
    await storage.apiKeys.insert({
      id: `key-${k}`,
      name: `Key ${k}`,
      roles: k % 4 === 0 ? ['ADMIN'] : ['APPENDER'],
      userId: `user-${k}`,
      groupIds: [],
      tokenHash: k.toString(16).padStart(64, '0'),
      createdAt: now,
      createdBy: null,
      revokedAt: k % 8 === 0 ? now : null,
    });
  }
}
