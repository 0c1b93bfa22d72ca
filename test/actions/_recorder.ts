/** A local stand-in for a vendor API: records each request and answers what the test sets. */
import * as assert from 'uvu/assert';
import type { ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { closedPort, httpPeer, silentPeer, type Peer } from '../helpers/peers.js';

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Recorder {
  peer: Peer;
  received: Received[];
  /** The next answers: status and body (a string, or JSON), and headers that replace or add to the default ones. */
  answer: Answer;
  /** When set, decides each answer from the request instead of `answer` (a stand-in that checks a signature). */
  answerFor?: (got: Received) => Answer;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Starts a recording HTTP peer on 127.0.0.1. */
export async function recorder(status = 200, body: unknown = 'ok'): Promise<Recorder> {
  const rec = { received: [], answer: { status, body } } as unknown as Recorder;
  rec.peer = await httpPeer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const got = { method: req.method!, url: req.url!, headers: req.headers, body: text };
      rec.received.push(got);
      const { status: code, body: answer, headers } = rec.answerFor?.(got) ?? rec.answer;
      const json = typeof answer !== 'string';
      res.writeHead(code, { 'content-type': json ? 'application/json' : 'text/plain', ...headers });
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

/** Asserts that a refused connection and a server that never answers (cut by ctx.signal) both make `mod` fail, with the reason logged. */
export async function assertNetworkFailures(mod: ReactionModule, eventFor: (baseUrl: string) => ReactionEvent): Promise<void> {
  const port = await closedPort();
  const log = memoryLog();
  assert.is(await mod.react(eventFor(`http://127.0.0.1:${port}`), { signal: AbortSignal.timeout(5000), logger: log.logger }), 'failed');
  assert.match(String(log.lines[0]!.msg), 'ECONNREFUSED');
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  const silent = await silentPeer();
  try {
    const slow = memoryLog();
    const started = Date.now();
    assert.is(await mod.react(eventFor(silent.url), { signal: AbortSignal.timeout(200), logger: slow.logger }), 'failed');
    assert.ok(Date.now() - started < 1500);
    assert.match(String(slow.lines[0]!.msg), 'deadline');
    assert.is(slow.lines[0]!.reactionId, 'rea-3');
  } finally {
    await silent.close();
  }
}
