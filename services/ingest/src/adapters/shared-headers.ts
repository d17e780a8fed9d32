import type { IHeaders } from 'kafkajs';
import { headersToStrings } from '@reco/platform';

/**
 * Message headers as strings. Nearly every message carries one header, the same content type:
 * those share one frozen object (decoding it per message was an object, a string and the
 * entries' arrays of garbage per event). Any other headers are decoded as they come.
 */
export class SharedHeaders {
  private bytes?: Buffer;
  private strings?: Readonly<Record<string, string>>;

  of(headers: IHeaders | undefined): Readonly<Record<string, string>> {
    const value = soleContentType(headers);
    if (value && this.bytes && sameBytes(value, this.bytes)) return this.strings!;
    const strings = Object.freeze(headersToStrings(headers));
    if (value) {
      this.bytes = Buffer.from(value); // a copy: the message's bytes belong to its fetch
      this.strings = strings;
    }
    return strings;
  }
}

/** The value of the only header, when that is a content-type given as bytes. */
function soleContentType(headers: IHeaders | undefined): Buffer | undefined {
  if (!headers) return undefined;
  let value: unknown;
  let count = 0;
  for (const key in headers) {
    if (++count > 1 || key !== 'content-type') return undefined;
    value = headers[key];
  }
  return Buffer.isBuffer(value) ? value : undefined;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
