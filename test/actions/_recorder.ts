/** A local stand-in for a vendor API: records each request and answers what the test sets. */
import * as assert from 'uvu/assert';
import { secretFields } from '../../src/core/schema.js';
import type { ReactionEvent, ReactionModule, ReactionOutcome, ReactionReturn } from '../../src/core/types.js';
import { memoryLog, type MemoryLog } from '../helpers/memory-log.js';
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

let returned: { outcome: ReactionOutcome; message: string } = { outcome: 'ran', message: '' };

/** The outcome of what react() returned (a bare outcome or { outcome, message }); its message is then lastMessage(). */
export function outcomeOf(r: ReactionReturn): ReactionOutcome {
  returned = typeof r === 'string' ? { outcome: r, message: '' } : { outcome: r.outcome, message: r.message ?? '' };
  return returned.outcome;
}

/** The message of the last return given to outcomeOf ('' when the module returned a bare outcome). */
export function lastMessage(): string {
  return returned.message;
}

/** Asserts that `message` is one short line holding none of `secrets`. */
export function assertMessageClean(message: string, secrets: string[]): void {
  assert.ok(message.length <= 300, `message of ${message.length} characters: ${message}`);
  assert.not.match(message, '\n');
  for (const s of secrets) assert.not.ok(message.includes(s), `message holds secret ${s.slice(0, 4)}…: ${message}`);
}

/** The string values of the secret fields of `data` under `mod`'s schema, to check that none leaks. */
export function secretsOf(mod: ReactionModule, data: Record<string, unknown>): string[] {
  const texts = (v: unknown): string[] => (typeof v === 'string' ? [v] : typeof v === 'object' && v !== null ? Object.values(v).flatMap(texts) : []);
  return secretFields(mod.meta.fields).flatMap((f) => texts(data[f]));
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

/** Asserts that a refused connection and a server that never answers (cut by ctx.signal) both make `mod` fail, with the reason logged and as the message. */
export async function assertNetworkFailures(mod: ReactionModule, eventFor: (baseUrl: string) => ReactionEvent): Promise<void> {
  const port = await closedPort();
  const log = memoryLog();
  const refused = eventFor(`http://127.0.0.1:${port}`);
  assert.is(outcomeOf(await mod.react(refused, { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
  assert.match(String(log.lines[0]!.msg), 'ECONNREFUSED');
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  // It names the request (a method and URL, or the API call) and the error, as the operator needs it.
  assert.match(lastMessage(), new RegExp(`^[A-Z]\\S* \\S+: ECONNREFUSED connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
  assertMessageClean(lastMessage(), secretsOf(mod, refused.reaction.data));
  const silent = await silentPeer();
  try {
    const slow = memoryLog();
    const started = Date.now();
    assert.is(outcomeOf(await mod.react(eventFor(silent.url), { signal: AbortSignal.timeout(200), logger: slow.logger })), 'failed');
    assert.ok(Date.now() - started < 1500);
    assert.match(String(slow.lines[0]!.msg), 'deadline');
    assert.match(lastMessage(), ': the deadline passed before it answered');
    assert.is(slow.lines[0]!.reactionId, 'rea-3');
  } finally {
    await silent.close();
  }
}

/** A context that asks for a dry run, with a deadline and a log to look at. */
export function dryRunCtx(log: MemoryLog = memoryLog()): { signal: AbortSignal; logger: MemoryLog['logger']; dryRun: true } {
  return { signal: AbortSignal.timeout(5000), logger: log.logger, dryRun: true };
}

/** Call before a dry run; the check it returns asserts that `peer` accepted no connection and got no request since. */
export function untouched(target: { peer: Peer; received: unknown[] }): () => void {
  const connections = target.peer.connections;
  const requests = target.received.length;
  return () => {
    assert.is(target.received.length, requests, `the peer received ${target.received.length - requests} request(s) in a dry run`);
    assert.is(target.peer.connections, connections, 'the peer accepted a connection in a dry run');
  };
}

/**
 * Asserts that a dry run returned 'ran' with one line "dry run, nothing done: would ..." holding each of `holds`
 * (where a secret would be, the *** that masks it) and none of `secrets`; returns the message.
 */
export function assertDryRun(r: ReactionReturn, holds: (string | RegExp)[], secrets: string[]): string {
  assert.is(outcomeOf(r), 'ran');
  const message = lastMessage();
  assert.match(message, /^dry run, nothing done: would /);
  assert.not.match(message, '\n');
  for (const h of holds) assert.ok(typeof h === 'string' ? message.includes(h) : h.test(message), `dry-run message lacks ${String(h)}: ${message}`);
  for (const s of secrets) assert.not.ok(message.includes(s), `dry-run message holds secret ${s.slice(0, 4)}…: ${message}`);
  return message;
}
