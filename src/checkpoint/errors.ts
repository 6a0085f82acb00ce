export type SigningErrorCode =
  /** The signer key string is not PRIVATE+KEY+name+hex8+base64(0x01 || seed). */
  | 'MALFORMED_SIGNER_KEY'
  /** The text cannot be the text of a signed note. */
  | 'MALFORMED_NOTE_TEXT';

/** Raised by the log's signing side; a configuration or programming error, not bad input from clients. */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
