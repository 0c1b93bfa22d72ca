/** A local stand-in for a vendor API: records each request and answers what the test sets. */
import type { ReactionEvent } from '../../src/core/types.js';
import { httpPeer, type Peer } from '../helpers/peers.js';

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Recorder {
  peer: Peer;
  received: Received[];
  /** The next answers: status and body (a string, or JSON). */
  answer: { status: number; body: unknown };
}

/** Starts a recording HTTP peer on 127.0.0.1. */
export async function recorder(status = 200, body: unknown = 'ok'): Promise<Recorder> {
  const rec = { received: [], answer: { status, body } } as unknown as Recorder;
  rec.peer = await httpPeer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      rec.received.push({ method: req.method!, url: req.url!, headers: req.headers, body: text });
      const { status: code, body: answer } = rec.answer;
      const json = typeof answer !== 'string';
      res.writeHead(code, { 'content-type': json ? 'application/json' : 'text/plain' });
      res.end(json ? JSON.stringify(answer) : answer);
    });
  });
  return rec;
}

export const checkedAt = Date.UTC(2024, 4, 1, 12, 30, 0);

/** A failed event of monitor mon-7 "api health" for reaction rea-3 of type `rtype`. */
export function sampleEvent(rtype: string, data: Record<string, unknown>, over: Partial<ReactionEvent> = {}): ReactionEvent {
  return {
    monitor: { id: 'mon-7', name: 'api health', ctype: 'http-get-statuscode' },
    reaction: { id: 'rea-3', name: 'page ops', rtype, data },
    status: 'failed',
    previousStatus: 'healthy',
    failcount: 3,
    zone: 'eu-1',
    checkedAt,
    message: 'got HTTP 503, expected 200',
    ...over,
  };
}
