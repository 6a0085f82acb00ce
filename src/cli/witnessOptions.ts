/**
 * The witness policy options of `audit` and `monitor`: repeatable `--witness <vkey>` with
 * `--witness-quorum <k>` (default: all of them), or `--witness-policy <file>` (witness,
 * group and quorum lines; see parseWitnessPolicy), and how cosignatures are reported.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import {
  createWitnessPolicy,
  describeCosignature,
  parseWitnessKey,
  parseWitnessPolicy,
  VerificationError,
  type WitnessPolicy,
  type WitnessPolicyResult,
} from '../verify';
import { CliError } from './cliError';

export interface WitnessOptions {
  readonly witness?: string[];
  readonly witnessQuorum?: number;
  readonly witnessPolicy?: string;
}

/** For the repeatable `--witness <vkey>`: each key is checked as it is parsed. */
export function witnessKeyOption(value: string, previous: string[] | undefined): string[] {
  try {
    parseWitnessKey(value.trim());
  } catch (err) {
    if (err instanceof VerificationError) throw new InvalidArgumentError(`not a witness key (name+hex8+base64 of 0x04 and an Ed25519 key): ${err.message}`);
    throw err;
  }
  return [...(previous ?? []), value.trim()];
}

/** The policy the options describe, or undefined when none was asked for. */
export function witnessPolicyOf(opts: WitnessOptions): WitnessPolicy | undefined {
  const keys = opts.witness ?? [];
  if (opts.witnessPolicy !== undefined) {
    if (keys.length > 0 || opts.witnessQuorum !== undefined) {
      throw new CliError('--witness-policy cannot be combined with --witness or --witness-quorum', 1);
    }
    let text: string;
    try {
      text = readFileSync(opts.witnessPolicy, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read --witness-policy ${opts.witnessPolicy}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
    }
    try {
      return parseWitnessPolicy(text);
    } catch (err) {
      if (err instanceof VerificationError) throw new CliError(`--witness-policy ${opts.witnessPolicy}: ${err.message}`, 1);
      throw err;
    }
  }
  if (keys.length === 0) {
    if (opts.witnessQuorum !== undefined) throw new CliError('--witness-quorum needs at least one --witness key', 1);
    return undefined;
  }
  try {
    return createWitnessPolicy(keys, opts.witnessQuorum ?? keys.length);
  } catch (err) {
    if (err instanceof VerificationError) throw new CliError(`--witness/--witness-quorum: ${err.message}`, 1);
    throw err;
  }
}

/** One line: "witnesses (2 of 3 witnesses): a cosigned at …; b did not cosign; …". */
export function formatCosignatures(result: WitnessPolicyResult): string {
  return `witnesses (${result.quorum}): ${result.cosignatures.map(describeCosignature).join('; ')}`;
}
