import { BodyBudget, BodyBudgetExhaustedError, declaredBodyBytes } from '../../src/server/bodyBudget';
import type { Request } from 'express';

/** Settles pending promise callbacks (grants are delivered through promises). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BodyBudget', () => {
  afterEach(() => jest.useRealTimers());

  it('admits at once while the bytes fit, and always admits a request alone whatever its size', async () => {
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 1_000, smallBytes: 0 });
    const a = await budget.reserve(60);
    const b = await budget.reserve(40);
    expect(budget.bytesInFlight).toBe(100);
    a();
    b();
    expect(budget.bytesInFlight).toBe(0);
    const huge = await budget.reserve(10_000);
    expect(budget.bytesInFlight).toBe(10_000);
    huge();
  });

  it('makes a request wait for room and grants it when bytes are given back, first come first served', async () => {
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 60_000, smallBytes: 0 });
    const first = await budget.reserve(90);
    const order: string[] = [];
    const big = budget.reserve(80).then((release) => (order.push('big'), release));
    // Small enough to fit beside `first`, but it came after `big`: it must not overtake it.
    const small = budget.reserve(5).then((release) => (order.push('small'), release));
    await settled();
    expect(order).toEqual([]);
    expect(budget.waitingRequests).toBe(2);
    first();
    const releaseBig = await big;
    const releaseSmall = await small;
    expect(order).toEqual(['big', 'small']);
    expect(budget.bytesInFlight).toBe(85);
    releaseBig();
    releaseSmall();
    expect(budget.bytesInFlight).toBe(0);
  });

  it('lets small bodies pass without a reservation, even while large ones wait', async () => {
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 60_000, smallBytes: 10 });
    const held = await budget.reserve(100);
    const large = budget.reserve(50);
    const small = await budget.reserve(10);
    expect(budget.bytesInFlight).toBe(100);
    small();
    expect(budget.waitingRequests).toBe(1);
    held();
    (await large)();
    expect(budget.bytesInFlight).toBe(0);
  });

  it('gives back a reservation once, however often it is released', async () => {
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 1_000, smallBytes: 0 });
    const a = await budget.reserve(50);
    const b = await budget.reserve(50);
    a();
    a();
    expect(budget.bytesInFlight).toBe(50);
    b();
  });

  it('refuses a request that waited too long with 503 UNAVAILABLE and Retry-After, and lets the next one in', async () => {
    jest.useFakeTimers();
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 5_000, smallBytes: 0 });
    const held = await budget.reserve(100);
    const waiting = budget.reserve(10);
    jest.advanceTimersByTime(5_000);
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BodyBudgetExhaustedError);
    expect(err).toMatchObject({ status: 503, code: 'UNAVAILABLE', headers: { 'Retry-After': '1' } });
    expect(budget.waitingRequests).toBe(0);
    held();
    expect(budget.bytesInFlight).toBe(0);
  });

  it('withdraws a waiting request whose client left, and admits those behind it', async () => {
    const budget = new BodyBudget({ budgetBytes: 100, maxWaitMs: 60_000, smallBytes: 0 });
    const held = await budget.reserve(60);
    let withdraw: () => void = () => undefined;
    const gone = budget.reserve(100, (w) => (withdraw = w)).catch((e: unknown) => e);
    const behind = budget.reserve(30);
    await settled();
    expect(budget.waitingRequests).toBe(2);
    withdraw();
    expect(await gone).toBeInstanceOf(Error);
    const release = await behind;
    expect(budget.bytesInFlight).toBe(90);
    release();
    held();
  });
});

describe('declaredBodyBytes', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

  it('takes Content-Length, capped at the limit', () => {
    expect(declaredBodyBytes(req({ 'content-length': '1234' }), 10_000)).toBe(1234);
    expect(declaredBodyBytes(req({ 'content-length': '99999999' }), 10_000)).toBe(10_000);
  });

  it('reserves the whole limit for a chunked body of unknown length, nothing for no body', () => {
    expect(declaredBodyBytes(req({ 'transfer-encoding': 'chunked' }), 10_000)).toBe(10_000);
    expect(declaredBodyBytes(req({}), 10_000)).toBe(0);
    expect(declaredBodyBytes(req({ 'content-length': 'nonsense', 'transfer-encoding': 'chunked' }), 10_000)).toBe(10_000);
  });
});
