import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './config';

/** The package version, read from package.json at the project root (outside the compiled tree). */
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
