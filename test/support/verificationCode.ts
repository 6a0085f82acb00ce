import { VerificationError } from '../../src/verify';

/** The VerificationError code a call fails with, or undefined when it succeeds. */
export function verificationCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return error.code;
  }
}
