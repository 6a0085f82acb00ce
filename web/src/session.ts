/**
 * What the browser keeps. The API key lives in this tab's sessionStorage only: never in a URL,
 * never in a cookie, gone when the tab closes or on sign-out. The pinned verifier key and the
 * last checkpoint seen are the reader's own trust anchors, so they outlive the session
 * (localStorage) and are never taken from the server without the reader's consent.
 */
const TOKEN = 'audit-ledger.apiKey';
const PIN = 'audit-ledger.verifierKey';
const LAST_CHECKPOINT = 'audit-ledger.lastCheckpoint';
const SIZES = 'audit-ledger.sizesSeen';
const WITNESSES = 'audit-ledger.witnessKeys';
const MAX_SIZES = 500;

export const session = {
  token: (): string | undefined => sessionStorage.getItem(TOKEN) ?? undefined,
  signIn: (token: string): void => sessionStorage.setItem(TOKEN, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN),
};

export interface PinnedKey {
  readonly verifierKey: string;
  readonly origin: string;
  readonly pinnedAt: string;
}

export interface SeenCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly note: string;
  readonly seenAt: string;
}

export interface SizeSeen {
  readonly at: string;
  readonly treeSize: number;
}

function readJson<T>(key: string): T | undefined {
  const raw = localStorage.getItem(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

export const trust = {
  pinned: (): PinnedKey | undefined => readJson<PinnedKey>(PIN),
  pin: (key: PinnedKey): void => localStorage.setItem(PIN, JSON.stringify(key)),
  unpin: (): void => localStorage.removeItem(PIN),
  lastCheckpoint: (): SeenCheckpoint | undefined => readJson<SeenCheckpoint>(LAST_CHECKPOINT),
  rememberCheckpoint: (c: SeenCheckpoint): void => localStorage.setItem(LAST_CHECKPOINT, JSON.stringify(c)),
  forgetCheckpoint: (): void => localStorage.removeItem(LAST_CHECKPOINT),
  /** Witness cosignature keys (name+hex8+base64) the reader pinned for the Log page. */
  witnessKeys: (): string[] => readJson<string[]>(WITNESSES) ?? [],
  pinWitnessKeys: (keys: string[]): void => localStorage.setItem(WITNESSES, JSON.stringify(keys)),
  sizesSeen: (): SizeSeen[] => readJson<SizeSeen[]>(SIZES) ?? [],
  recordSize: (size: SizeSeen): SizeSeen[] => {
    const sizes = trust.sizesSeen();
    const last = sizes.at(-1);
    if (last?.treeSize !== size.treeSize) sizes.push(size);
    const kept = sizes.slice(-MAX_SIZES);
    localStorage.setItem(SIZES, JSON.stringify(kept));
    return kept;
  },
};
