/** A bare-bones driver for protocol tests: the V1_0 handshake, then raw query frames and responses by token. */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  t: number;
  r: unknown[];
  e?: number;
  b?: unknown[];
  n?: number[];
}

export interface RawTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting = new Map<string, ((r: RawResponse) => void)[]>();
  private readonly early = new Map<string, RawResponse[]>();
  private nulWaiter: ((msg: string) => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.drain();
    });
    socket.on('error', () => undefined);
  }

  private mode: 'handshake' | 'frames' = 'handshake';

  private drain(): void {
    if (this.mode === 'handshake') {
      const end = this.buf.indexOf(0);
      if (end < 0 || !this.nulWaiter) return;
      const msg = this.buf.subarray(0, end).toString('utf8');
      this.buf = this.buf.subarray(end + 1);
      const w = this.nulWaiter;
      this.nulWaiter = undefined;
      w(msg);
      return;
    }
    while (this.buf.length >= 12) {
      const len = this.buf.readUInt32LE(8);
      if (this.buf.length < 12 + len) return;
      const key = this.buf.subarray(0, 8).toString('hex');
      const res = JSON.parse(this.buf.subarray(12, 12 + len).toString('utf8')) as RawResponse;
      this.buf = this.buf.subarray(12 + len);
      const w = this.waiting.get(key)?.shift();
      if (w) w(res);
      else this.early.set(key, [...(this.early.get(key) ?? []), res]);
    }
  }

  /** The next NUL-terminated handshake message. */
  nul(): Promise<string> {
    return new Promise((resolve) => {
      this.nulWaiter = resolve;
      this.drain();
    });
  }

  /** Connects and authenticates; rejects with the server's handshake error object when it refuses. */
  static async open(target: RawTarget): Promise<RawClient> {
    const socket = connect(target.port, target.host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawClient(socket);
    const nonce = randomBytes(18).toString('base64');
    const first = `n=${target.user},r=${nonce}`;
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(0x34c2bdc3, 0);
    const hello = JSON.stringify({ protocol_version: 0, authentication_method: 'SCRAM-SHA-256', authentication: `n,,${first}` });
    socket.write(Buffer.concat([magic, Buffer.from(hello), Buffer.from([0])]));
    const version = JSON.parse(await c.nul()) as { success: boolean };
    if (!version.success) throw version;
    const serverFirst = JSON.parse(await c.nul()) as { success: boolean; authentication: string };
    if (!serverFirst.success) throw serverFirst;
    const attrs = new Map(serverFirst.authentication.split(',').map((p) => [p[0], p.slice(2)] as [string, string]));
    const salted = pbkdf2Sync(target.password, Buffer.from(attrs.get('s')!, 'base64'), Number(attrs.get('i')), 32, 'sha256');
    const withoutProof = `c=biws,r=${attrs.get('r')}`;
    const authMessage = `${first},${serverFirst.authentication},${withoutProof}`;
    const clientKey = hmac(salted, 'Client Key');
    const signature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
    socket.write(Buffer.concat([Buffer.from(JSON.stringify({ authentication: `${withoutProof},p=${proof}` })), Buffer.from([0])]));
    const final = JSON.parse(await c.nul()) as { success: boolean; authentication: string };
    if (!final.success) throw final;
    if (final.authentication !== `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`) {
      throw new Error('server signature does not verify');
    }
    c.mode = 'frames';
    c.drain();
    return c;
  }

  /** Sends one frame (JSON text, or raw bytes) under an 8-byte token. */
  send(token: Buffer, body: string | Buffer): void {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const head = Buffer.alloc(12);
    token.copy(head);
    head.writeUInt32LE(data.length, 8);
    this.socket.write(Buffer.concat([head, data]));
  }

  /** The next response carrying this token. */
  response(token: Buffer): Promise<RawResponse> {
    const key = token.toString('hex');
    const queued = this.early.get(key);
    if (queued && queued.length > 0) return Promise.resolve(queued.shift()!);
    return new Promise((resolve) => this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]));
  }

  async query(token: Buffer, query: unknown): Promise<RawResponse> {
    this.send(token, JSON.stringify(query));
    return this.response(token);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An 8-byte token from a number (little-endian, like the official drivers' counters). */
export function token(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
