/**
 * Go programs we did not write (and small Go checkers we did), built through the Go module
 * proxy for interoperability tests: each lives in its own module folder under test/interop/
 * (a go.mod pinning the exact versions, a go.sum, and for our checkers a main package). A
 * build is cached in .cache/go-tools/ under a hash of the module's files, so a machine pays it
 * once. Without Go, the suites that need it are skipped with a message naming what to
 * install, and under CI=true that is a failure: CI must run them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findGo } from '../../src/storage/mongodb/engine/ferretdbBinary';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..', '..');
export const INTEROP_DIR = path.join(REPO, 'test', 'interop');
const CACHE_DIR = path.join(REPO, '.cache', 'go-tools');

/** Why Go programs cannot be built here, or undefined when they can. */
export function goUnavailable(): string | undefined {
  return findGo() ? undefined : 'Go is not installed (looked on PATH and in /usr/local/go/bin)';
}

/** `describe` that needs Go: skipped with a reason without it, and failing under CI=true. */
export function describeWithGo(title: string, body: () => void): void {
  const missing = goUnavailable();
  if (!missing) {
    describe(title, body);
    return;
  }
  const why = `${title} needs Go to build its interoperability tools through the Go module proxy: ${missing}. Install Go 1.24+ at /usr/local/go.`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has Go (required under CI=true)', () => {
        throw new Error(why);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${why})`, body);
  }
}

async function moduleDigest(moduleDir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) hash.update(path.relative(moduleDir, full)).update('\0').update(await readFile(full)).update('\0');
    }
  };
  await walk(moduleDir);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds `pkg` (a package path, e.g. `./cmd/check` or `filippo.io/torchwood/cmd/litewitness`)
 * in the module folder test/interop/<moduleName> and returns the binary's path. Concurrent
 * builds of the same tool (jest workers) each write to a temp name and rename, so a reader
 * never sees half a file.
 */
export async function buildGoTool(moduleName: string, pkg: string, binaryName: string): Promise<string> {
  const go = findGo();
  if (!go) throw new Error(`cannot build ${pkg}: ${goUnavailable()}`);
  const moduleDir = path.join(INTEROP_DIR, moduleName);
  const outDir = path.join(CACHE_DIR, `${moduleName}-${await moduleDigest(moduleDir)}`);
  const binary = path.join(outDir, binaryName);
  if (existsSync(binary)) return binary;
  await mkdir(outDir, { recursive: true });
  const temp = `${binary}.${process.pid}.tmp`;
  try {
    await run(go, ['build', '-o', temp, pkg], {
      cwd: moduleDir,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    await rename(temp, binary);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return binary;
}
