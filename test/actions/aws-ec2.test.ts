import { createHash, createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog, type MemoryLog } from '../helpers/memory-log.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Answer, type Received, type Recorder } from './_recorder.js';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TEMP_AKID = 'ASIAQNZGKIQY56JQ7WML';
const TEMP_SECRET = 'Kq2cM3gtcHi/0eV0XKhBoCuXeOphBz4Hk8BN9VXr';
const TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIFWz1NexampleTOKEN';
const ENV_AKID = 'AKIAENVEXAMPLE000000';
const ENV_SECRET = 'envSecretKey/0123456789abcdefEXAMPLEKEY0';
/** The secret EC2 knows for each access key id. */
const KNOWN: Record<string, string> = { [AKID]: SECRET, [TEMP_AKID]: TEMP_SECRET, [ENV_AKID]: ENV_SECRET };
const ID1 = 'i-0123456789abcdef0';
const ID2 = 'i-0fedcba9876543210';
const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const REQUEST_ID = '59dbff89-35bd-4eac-99ed-be587EXAMPLE';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

interface Signature {
  akid: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header, or a reason it is not one. */
function parseAuthorization(header: unknown): Signature | string {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(String(header));
  if (!m) return `not a SigV4 Authorization header: ${String(header)}`;
  return { akid: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';'), signature: m[6]! };
}

/** Recomputes the SigV4 signature of a received request with `secret` (canonical request, string to sign, signing key); undefined when it matches. */
function signatureProblem(got: Received, secret: string): string | undefined {
  const auth = parseAuthorization(got.headers.authorization);
  if (typeof auth === 'string') return auth;
  const [path, query = ''] = got.url.split('?');
  const canonicalHeaders = auth.signedHeaders.map((h) => `${h}:${String(got.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [got.method, path, query, canonicalHeaders, auth.signedHeaders.join(';'), sha256(got.body)].join('\n');
  const amzDate = String(got.headers['x-amz-date']);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === auth.signature ? undefined : `signature ${auth.signature} does not match ${expected}`;
}

const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${REQUEST_ID}</RequestID></Response>`;
const xml = (status: number, body: string): Answer => ({ status, body, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': REQUEST_ID } });

/** EC2 as documented: AuthFailure (401) on a bad signature, else the answer the test set. */
function ec2(got: Received): Answer | undefined {
  const auth = parseAuthorization(got.headers.authorization);
  const secret = typeof auth === 'string' ? undefined : KNOWN[auth.akid];
  if (!secret || signatureProblem(got, secret)) return xml(401, errorXml('AuthFailure', 'AWS was not able to validate the provided access credentials'));
  return undefined;
}

function changes(operation: string, from: [number, string], to: [number, string], ids: string[]): string {
  const items = ids.map(
    (id) =>
      `<item><instanceId>${id}</instanceId><currentState><code>${to[0]}</code><name>${to[1]}</name></currentState>` +
      `<previousState><code>${from[0]}</code><name>${from[1]}</name></previousState></item>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${XMLNS}"><requestId>${REQUEST_ID}</requestId><instancesSet>${items.join('')}</instancesSet></${operation}Response>`;
}

/** The documented success answer of each action for `ids`. */
const success: Record<string, (ids: string[]) => string> = {
  'aws-ec2-reboot': () => `<?xml version="1.0" encoding="UTF-8"?>\n<RebootInstancesResponse xmlns="${XMLNS}"><requestId>${REQUEST_ID}</requestId><return>true</return></RebootInstancesResponse>`,
  'aws-ec2-start': (ids) => changes('StartInstances', [80, 'stopped'], [0, 'pending'], ids),
  'aws-ec2-stop': (ids) => changes('StopInstances', [16, 'running'], [64, 'stopping'], ids),
};
const ACTION: Record<string, string> = { 'aws-ec2-reboot': 'RebootInstances', 'aws-ec2-start': 'StartInstances', 'aws-ec2-stop': 'StopInstances' };

let rec: Recorder;
test.before(async () => {
  rec = await recorder();
  rec.answerFor = (got) => ec2(got) ?? rec.answer;
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
});

const data = (over: Record<string, unknown> = {}) => ({ region: 'eu-west-1', instanceIds: [ID1, ID2], accessKeyId: AKID, secretAccessKey: SECRET, baseUrl: rec.peer.url, ...over });
const load = (name: string): Promise<ReactionModule> => reactionLoader().load(name);

async function run(name: string, d: Record<string, unknown>, ms = 5000): Promise<{ outcome: string; message: string; log: MemoryLog }> {
  const log = memoryLog();
  const outcome = outcomeOf(await (await load(name)).react(sampleEvent(name, d), { signal: AbortSignal.timeout(ms), logger: log.logger }));
  return { outcome, message: lastMessage(), log };
}

/** Asserts the received request is the documented Query API call, signed for eu-west-1 with `akid` and its secret. */
function assertSigned(got: Received, body: string, akid = AKID): void {
  assert.is(got.method, 'POST');
  assert.is(got.url, '/');
  assert.is(got.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.is(got.body, body);
  const auth = parseAuthorization(got.headers.authorization);
  if (typeof auth === 'string') assert.unreachable(auth);
  else {
    assert.is(auth.akid, akid);
    assert.is(auth.region, 'eu-west-1');
    assert.is(auth.service, 'ec2');
    assert.is(auth.date, String(got.headers['x-amz-date']).slice(0, 8));
    for (const h of ['host', 'x-amz-date', 'content-type']) assert.ok(auth.signedHeaders.includes(h), `${h} is signed`);
  }
  assert.is(signatureProblem(got, KNOWN[akid]!), undefined);
  assert.ok(signatureProblem(got, `${KNOWN[akid]!}x`), 'a wrong secret does not verify');
}

const assertNoSecrets = (log: MemoryLog) => {
  const text = JSON.stringify(log.lines);
  for (const s of [SECRET, TEMP_SECRET, TOKEN, ENV_SECRET]) assert.not.ok(text.includes(s), 'a secret is in the log');
};

for (const name of ['aws-ec2-reboot', 'aws-ec2-start', 'aws-ec2-stop']) {
  const action = ACTION[name]!;
  const query = `Action=${action}&Version=2016-11-15&InstanceId.1=${ID1}&InstanceId.2=${ID2}`;

  test(`${name}: schema rejects bad data naming the field; keys are secret`, async () => {
    const f = (await load(name)).meta.fields;
    assert.equal(validate(f, data()), []);
    assert.equal(validate(f, { instanceIds: [ID1] }), ['data.region is required']);
    assert.equal(validate(f, { region: 'eu-west-1' }), ['data.instanceIds is required']);
    assert.match(validate(f, data({ region: 'Ireland' })).join(), 'data.region must match');
    assert.match(validate(f, data({ instanceIds: ID1 })).join(), 'data.instanceIds must be an array');
    assert.match(validate(f, data({ instanceIds: [ID1, 'web-1'] })).join(), 'data.instanceIds[1] must match');
    assert.equal(validate(f, data({ instanceIds: [] })), ['data.instanceIds must have at least 1 item']);
    assert.equal(validate(f, data({ secretAccessKey: undefined })), ['data.secretAccessKey is required when data.accessKeyId is set']);
    assert.equal(validate(f, data({ accessKeyId: undefined })), ['data.accessKeyId is required when data.secretAccessKey is set']);
    assert.match(validate(f, data({ accessKeyId: 'akia-lower' })).join(), 'data.accessKeyId must match');
    assert.match(validate(f, data({ baseUrl: 'ec2.local' })).join(), /data\.baseUrl (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
    assert.match(validate(f, data({ dropletId: 1 })).join(), 'data.dropletId is not a known field');
    assert.equal(secretFields(f), ['accessKeyId', 'secretAccessKey', 'sessionToken']);
    assert.match(String((await load(name)).meta.description), 'default credential chain');
    assert.is((await load(name)).meta.kind, 'fix');
  });

  test(`${name}: POSTs ${action} with every InstanceId.N, signed with SigV4; the documented answer means ran`, async () => {
    rec.answer = xml(200, success[name]!([ID1, ID2]));
    const { outcome, log } = await run(name, data());
    assert.is(outcome, 'ran');
    assert.is(rec.received.length, 1);
    assertSigned(rec.received[0]!, query);
    assert.is(rec.received[0]!.headers['x-amz-security-token'], undefined);
    assert.is(log.lines[0]!.monitorId, 'mon-7');
    assert.is(log.lines[0]!.reactionId, 'rea-3');
    if (name === 'aws-ec2-start') assert.equal(log.lines[0]!.transitions, [`${ID1}: stopped -> pending`, `${ID2}: stopped -> pending`]);
    if (name === 'aws-ec2-stop') assert.match(String(log.lines[0]!.msg), `${ID1}: running -> stopping`);
    assertNoSecrets(log);
  });

  test(`${name}: temporary credentials send X-Amz-Security-Token, signed`, async () => {
    rec.answer = xml(200, success[name]!([ID1]));
    const { outcome } = await run(name, data({ instanceIds: [ID1], accessKeyId: TEMP_AKID, secretAccessKey: TEMP_SECRET, sessionToken: TOKEN }));
    assert.is(outcome, 'ran');
    const got = rec.received[0]!;
    assertSigned(got, `Action=${action}&Version=2016-11-15&InstanceId.1=${ID1}`, TEMP_AKID);
    assert.is(got.headers['x-amz-security-token'], TOKEN);
    const auth = parseAuthorization(got.headers.authorization) as Signature;
    assert.ok(auth.signedHeaders.includes('x-amz-security-token'));
  });

  test(`${name}: EC2 errors mean failed, logged with the AWS code and message, never a secret`, async () => {
    const cases: [number, string, string][] = [
      [400, 'InvalidInstanceID.NotFound', `The instance ID '${ID2}' does not exist`],
      [403, 'UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abc'],
      [400, 'IncorrectInstanceState', `The instance '${ID1}' is not in a state from which it can be ${name.slice(8)}ed.`],
    ];
    for (const [status, code, message] of cases) {
      rec.answer = xml(status, errorXml(code, message));
      const { outcome, message: said, log } = await run(name, data());
      assert.is(outcome, 'failed');
      assert.is(said, `AWS ${action} answered ${status} ${code}: ${message}`);
      assert.not.match(said, SECRET);
      assert.not.match(said, AKID);
      const line = log.lines[0]!;
      assert.is(line.awsCode, code);
      assert.is(line.awsMessage, message);
      assert.is(line.httpStatus, status);
      assert.is(line.requestId, REQUEST_ID);
      assert.is(line.monitorId, 'mon-7');
      assert.is(line.reactionId, 'rea-3');
      assert.match(String(line.msg), `${action} failed: ${code}: `);
      assertNoSecrets(log);
    }
  });

  test(`${name}: a wrong secret is refused by EC2 (AuthFailure) and means failed`, async () => {
    rec.answer = xml(200, success[name]!([ID1, ID2]));
    const { outcome, message, log } = await run(name, data({ secretAccessKey: 'not-the-secret-of-this-key-0000000000000' }));
    assert.is(outcome, 'failed');
    assert.match(message, `AWS ${action} answered 401 AuthFailure: `);
    assert.not.match(message, 'not-the-secret');
    assert.is(log.lines[0]!.awsCode, 'AuthFailure');
    assert.is(log.lines[0]!.httpStatus, 401);
    assert.not.match(JSON.stringify(log.lines), 'not-the-secret');
  });

  test(`${name}: dry run: nothing is sent or signed; the message has the POST, the URL and the form body, the keys masked`, async () => {
    const mod = await load(name);
    const nothingSent = untouched(rec);
    const log = memoryLog();
    assertDryRun(await mod.react(sampleEvent(name, data({ sessionToken: TOKEN })), dryRunCtx(log)), [
      `would call AWS EC2 ${action}: POST ${rec.peer.url}/, signed (Signature Version 4) with the reaction's access key ***; `,
      'not known without acting: whether the credentials are valid and the instances are in a state that allows it; ',
      `body: ${query}`,
    ], [AKID, SECRET, TOKEN]);
    // Without baseUrl: EC2's own regional endpoint, computed here; nothing leaves the machine.
    assertDryRun(await mod.react(sampleEvent(name, data({ baseUrl: undefined })), dryRunCtx(log)), [`: POST https://ec2.eu-west-1.amazonaws.com/, signed`], [AKID, SECRET]);
    nothingSent();
    assert.equal(log.lines, []);
    assert.is(mod.meta.dryRun, true);
  });

  test(`${name}: a refused connection and a silent server mean failed within the deadline`, async () => {
    await assertNetworkFailures(await load(name), (base) => sampleEvent(name, data({ baseUrl: base })));
  });
}

test('aws-ec2-stop: force and hibernate are sent as Force=true and Hibernate=true; schema takes booleans only', async () => {
  rec.answer = xml(200, success['aws-ec2-stop']!([ID1]));
  assert.is((await run('aws-ec2-stop', data({ instanceIds: [ID1], force: true }))).outcome, 'ran');
  assertSigned(rec.received[0]!, `Action=StopInstances&Version=2016-11-15&InstanceId.1=${ID1}&Force=true`);
  assert.is((await run('aws-ec2-stop', data({ instanceIds: [ID1], hibernate: true }))).outcome, 'ran');
  assertSigned(rec.received[1]!, `Action=StopInstances&Version=2016-11-15&InstanceId.1=${ID1}&Hibernate=true`);
  assert.is((await run('aws-ec2-stop', data({ instanceIds: [ID1], force: false, hibernate: false }))).outcome, 'ran');
  assertSigned(rec.received[2]!, `Action=StopInstances&Version=2016-11-15&InstanceId.1=${ID1}`);
  const f = (await load('aws-ec2-stop')).meta.fields;
  assert.match(validate(f, data({ force: 'yes' })).join(), 'data.force must be a boolean');
  assert.match(validate((await load('aws-ec2-reboot')).meta.fields, data({ force: true })).join(), 'data.force is not a known field');
});

test('without keys the default credential chain is used (here the AWS_* environment variables)', async () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = ENV_AKID;
  process.env.AWS_SECRET_ACCESS_KEY = ENV_SECRET;
  try {
    rec.answer = xml(200, success['aws-ec2-reboot']!([ID1]));
    const { outcome, log } = await run('aws-ec2-reboot', { region: 'eu-west-1', instanceIds: [ID1], baseUrl: rec.peer.url });
    assert.is(outcome, 'ran');
    assertSigned(rec.received[0]!, `Action=RebootInstances&Version=2016-11-15&InstanceId.1=${ID1}`, ENV_AKID);
    assertNoSecrets(log);
  } finally {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  }
});

test('data the schema cannot refuse fails before any request, naming the field', async () => {
  for (const [d, words] of [
    [data({ instanceIds: [] }), 'instanceIds is empty'],
    [data({ secretAccessKey: undefined }), 'accessKeyId is set without secretAccessKey'],
    [data({ accessKeyId: undefined }), 'secretAccessKey or sessionToken is set without accessKeyId'],
  ] as const) {
    const { outcome, message, log } = await run('aws-ec2-start', d);
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), words);
    assert.is(message, words === 'instanceIds is empty' ? 'instanceIds is empty; name at least one instance' : words);
    assertNoSecrets(log);
  }
  assert.is(rec.received.length, 0);
});

test('a throttled call is retried once, then failed; a second run reuses the client and its connection', async () => {
  rec.answer = xml(503, errorXml('RequestLimitExceeded', 'Request limit exceeded.'));
  const before = rec.peer.connections;
  const { outcome, log } = await run('aws-ec2-reboot', data({ region: 'eu-west-3' }));
  assert.is(outcome, 'failed');
  assert.is(rec.received.length, 2);
  assert.is(rec.received[1]!.headers['amz-sdk-request'], 'attempt=2; max=2');
  assert.is(log.lines[0]!.awsCode, 'RequestLimitExceeded');
  rec.answer = xml(200, success['aws-ec2-reboot']!([ID1, ID2]));
  assert.is((await run('aws-ec2-reboot', data({ region: 'eu-west-3' }))).outcome, 'ran');
  assert.is(rec.peer.connections - before, 1);
});

test('the deadline ends a retry that waits out its back-off', async () => {
  rec.answer = xml(503, errorXml('RequestLimitExceeded', 'Request limit exceeded.'));
  const started = Date.now();
  const { outcome, message } = await run('aws-ec2-reboot', data(), 60);
  assert.is(outcome, 'failed');
  // Which of the two ends the call first depends on the machine's load: the abort, or the last answer with the abort.
  assert.match(message, /^AWS RebootInstances(: the deadline passed before it answered| answered 503 RequestLimitExceeded: Request limit exceeded.; the deadline passed before it answered a retry)$/);
  // Throttling back-off starts at 500 ms, so a retry that ignored the signal would take longer.
  assert.ok(Date.now() - started < 400, `took ${Date.now() - started} ms`);
  assert.is(rec.received.length, 1);
});

test('dry run without keys: the default credential chain is named, not resolved; stop\'s Force is in the body', async () => {
  const saved = process.env.AWS_ACCESS_KEY_ID;
  process.env.AWS_ACCESS_KEY_ID = ENV_AKID;
  const nothingSent = untouched(rec);
  try {
    const message = assertDryRun(await (await load('aws-ec2-stop')).react(sampleEvent('aws-ec2-stop', { region: 'eu-west-1', instanceIds: [ID1], force: true, baseUrl: rec.peer.url }), dryRunCtx()), [
      "signed (Signature Version 4) with the default credential chain of the sink's machine (not resolved in a dry run)",
      `body: Action=StopInstances&Version=2016-11-15&InstanceId.1=${ID1}&Force=true`,
    ], []);
    assert.not.match(message, ENV_AKID);
    // A data problem is decided as for real.
    assert.is(outcomeOf(await (await load('aws-ec2-stop')).react(sampleEvent('aws-ec2-stop', data({ secretAccessKey: undefined })), dryRunCtx())), 'failed');
    nothingSent();
  } finally {
    if (saved === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved;
  }
});

test.run();
