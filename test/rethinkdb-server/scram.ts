/** Server side of SCRAM-SHA-256 (RFC 5802/7677) as RethinkDB 2.3+ runs it during the V1_0 handshake. */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** A failed handshake step; codes 10-20 are the authentication errors drivers report as ReqlAuthError. */
export class HandshakeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the server stores for a user: never the password itself. */
export interface StoredUser {
  salt: Buffer;
  iterations: number;
  saltedPassword: Buffer;
}

// The server's defaults for stored passwords: 16 random salt bytes, 4096 PBKDF2 iterations.
const SALT_BYTES = 16;
const ITERATIONS = 4096;

export function storeUser(password: string, iterations = ITERATIONS): StoredUser {
  const salt = randomBytes(SALT_BYTES);
  return { salt, iterations, saltedPassword: pbkdf2Sync(password, salt, iterations, 32, 'sha256') };
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** Splits `a=1,b=2` into attributes; repeated or malformed attributes are "Invalid encoding" (10). */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=' || out.has(part[0])) throw new HandshakeError(10, 'Invalid encoding');
    out.set(part[0], part.slice(2));
  }
  return out;
}

function decodeSaslName(name: string): string {
  return name.replace(/=(..)/g, (_, code: string) => {
    if (code === '2C') return ',';
    if (code === '3D') return '=';
    throw new HandshakeError(18, 'Invalid username encoding');
  });
}

/**
 * One authentication exchange. Like the real server, an unknown user still gets a server-first message
 * (with a made-up salt) so that user names cannot be probed; the failure comes at the final step.
 */
export class ScramExchange {
  private state: 'first' | 'final' | 'done' = 'first';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private user: StoredUser | undefined;
  private known = false;

  constructor(private readonly lookup: (name: string) => StoredUser | undefined) {}

  /** Answers one client message with the next server message, or throws a HandshakeError. */
  step(message: string): string {
    if (this.state === 'first') return this.first(message);
    if (this.state === 'final') return this.final(message);
    throw new HandshakeError(20, 'Already authenticated, no more messages expected.');
  }

  private first(message: string): string {
    // RethinkDB does not support channel binding: the GS2 header must be "n,,".
    if (!message.startsWith('n,')) throw new HandshakeError(15, 'Channel binding is not supported');
    const comma = message.indexOf(',', 2);
    if (comma < 0) throw new HandshakeError(10, 'Invalid encoding');
    this.clientFirstBare = message.slice(comma + 1);
    const attrs = attributes(this.clientFirstBare);
    for (const key of attrs.keys()) {
      if (key === 'm') throw new HandshakeError(11, 'Extensions not supported');
      if (key !== 'n' && key !== 'r') throw new HandshakeError(10, 'Invalid encoding');
    }
    const name = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (name === undefined || clientNonce === undefined) throw new HandshakeError(10, 'Invalid encoding');
    this.user = this.lookup(decodeSaslName(name));
    this.known = this.user !== undefined;
    const stored = this.user ?? { salt: randomBytes(SALT_BYTES), iterations: ITERATIONS, saltedPassword: randomBytes(32) };
    this.user = stored;
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${stored.salt.toString('base64')},i=${stored.iterations}`;
    this.state = 'final';
    return this.serverFirst;
  }

  private final(message: string): string {
    if (!this.known || !this.user) throw new HandshakeError(17, 'Unknown user');
    const attrs = attributes(message);
    for (const key of attrs.keys()) {
      if (key === 'm') throw new HandshakeError(11, 'Extensions not supported');
      if (key !== 'c' && key !== 'r' && key !== 'p') throw new HandshakeError(10, 'Invalid encoding');
    }
    const proof = attrs.get('p');
    if (attrs.get('c') === undefined || attrs.get('r') === undefined || proof === undefined) {
      throw new HandshakeError(10, 'Invalid encoding');
    }
    if (attrs.get('c') !== 'biws') throw new HandshakeError(10, 'Invalid encoding');
    if (attrs.get('r') !== this.nonce) throw new HandshakeError(20, 'Other error');

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${message.slice(0, message.indexOf(',p='))}`;
    const clientKey = hmac(this.user.saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const signature = hmac(storedKey, authMessage);
    const expected = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    const given = Buffer.from(proof, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HandshakeError(12, 'Wrong password');
    }
    this.state = 'done';
    const serverKey = hmac(this.user.saltedPassword, 'Server Key');
    return `v=${hmac(serverKey, authMessage).toString('base64')}`;
  }
}
