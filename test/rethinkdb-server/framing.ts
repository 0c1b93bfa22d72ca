/** Byte framing of the driver port: the handshake's NUL-terminated JSON, then token/length/JSON query frames. */

// The server reads handshake messages into a 2048-byte buffer.
export const HANDSHAKE_MESSAGE_LIMIT = 2048;
// Queries of 128 MiB or more are refused with a CLIENT_ERROR and the connection is closed.
export const QUERY_SIZE_LIMIT = 128 * 1024 * 1024;

export interface QueryFrame {
  /** The 8 token bytes exactly as received; responses echo them unchanged. */
  token: Buffer;
  size: number;
  body: Buffer;
}

/** Accumulates socket data and cuts it into the pieces each phase of the protocol expects. */
export class WireReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The 4-byte little-endian protocol magic, once available. */
  readMagic(): number | undefined {
    if (this.buf.length < 4) return undefined;
    const magic = this.buf.readUInt32LE(0);
    this.buf = this.buf.subarray(4);
    return magic;
  }

  /** The next NUL-terminated handshake message; 'too-long' once 2048 bytes pass without a NUL. */
  readNulMessage(): string | 'too-long' | undefined {
    const end = this.buf.indexOf(0);
    if (end < 0) return this.buf.length >= HANDSHAKE_MESSAGE_LIMIT ? 'too-long' : undefined;
    if (end >= HANDSHAKE_MESSAGE_LIMIT) return 'too-long';
    const text = this.buf.subarray(0, end).toString('utf8');
    this.buf = this.buf.subarray(end + 1);
    return text;
  }

  /** The next complete query frame (or just its header once the size is known to be over the limit). */
  readQuery(): QueryFrame | undefined {
    if (this.buf.length < 12) return undefined;
    const size = this.buf.readUInt32LE(8);
    const token = Buffer.from(this.buf.subarray(0, 8));
    if (size >= QUERY_SIZE_LIMIT) {
      this.buf = Buffer.alloc(0);
      return { token, size, body: Buffer.alloc(0) };
    }
    if (this.buf.length < 12 + size) return undefined;
    const body = Buffer.from(this.buf.subarray(12, 12 + size));
    this.buf = this.buf.subarray(12 + size);
    return { token, size, body };
  }
}

/** A NUL-terminated JSON handshake message. */
export function encodeHandshake(message: object): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(message), 'utf8'), Buffer.from([0])]);
}

/** A response frame: the query's token, the 4-byte little-endian length, the JSON body. */
export function encodeResponse(token: Buffer, json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.alloc(12);
  token.copy(head, 0, 0, 8);
  head.writeUInt32LE(body.length, 8);
  return Buffer.concat([head, body]);
}

/** The token as the server prints it in error messages: a signed little-endian 64-bit integer. */
export function tokenText(token: Buffer): string {
  return token.readBigInt64LE(0).toString();
}
