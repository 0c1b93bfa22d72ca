/** What each secret is bound to: the destinations read from data, the schema rule, and the decision for every shipped module. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decryptValue, encryptValue } from '../src/core/crypto.js';
import { randomBytes } from 'node:crypto';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { schemaProblem, secretFields } from '../src/core/schema.js';
import { secretAad, secretDestination, transportChange } from '../src/core/secret-binding.js';
import type { FieldSchema } from '../src/core/types.js';

const http: FieldSchema = { properties: { url: { type: 'string' }, headers: { type: 'object', secret: true, boundTo: { origin: 'url' } } } };
const service: FieldSchema = { properties: { host: { type: 'string' }, port: { type: 'integer', default: 6379 }, password: { type: 'string', secret: true, boundTo: { host: 'host', port: 'port' } } } };

test('a URL binding is its origin: the path does not count, the scheme, host and port do', () => {
  const at = (url: unknown) => secretDestination(http, 'headers', { url });
  assert.is(at('https://API.example.com/a?b=1'), 'https://api.example.com');
  assert.is(at('https://api.example.com:443/other'), 'https://api.example.com', 'the default port is the same place');
  for (const other of ['http://api.example.com/', 'https://api.example.com:8443/', 'https://api.example.com.evil.net/', 'https://user@evil.net/']) {
    assert.is.not(at(other), at('https://api.example.com/'), other);
  }
  assert.is(secretDestination(http, 'headers', {}), '');
  assert.is.not(at('not a url'), '', 'an unparsable URL is not the same as none');
});

test('a host binding is host:port, with the port field\'s default when it is left out', () => {
  assert.is(secretDestination(service, 'password', { host: 'Cache.internal' }), 'cache.internal:6379');
  assert.is(secretDestination(service, 'password', { host: 'cache.internal', port: 6379 }), 'cache.internal:6379');
  assert.is.not(secretDestination(service, 'password', { host: 'cache.internal', port: 6380 }), 'cache.internal:6379');
});

test('the associated data is kind:id:field, then the destination for a bound secret', () => {
  assert.is(secretAad({ kind: 'monitor', id: 'm-1' }, 'headers', http, { url: 'https://a.example/' }), 'monitor:m-1:headers:https://a.example');
  assert.is(secretAad({ kind: 'reaction', id: 'r-1' }, 'token'), 'reaction:r-1:token');
});

test('boundTo.also: a change of how the secret is sent is found (defaults count as given), and the associated data does not include it', () => {
  const verified: FieldSchema = { properties: { ...http.properties, tlsVerify: { type: 'boolean', default: true }, headers: { ...http.properties!.headers!, boundTo: { origin: 'url', also: ['tlsVerify'] } } } };
  const url = 'https://a.example/';
  assert.equal(transportChange(verified, 'headers', { url, tlsVerify: false }, { url }), { field: 'tlsVerify', to: false, from: true });
  assert.is(transportChange(verified, 'headers', { url, tlsVerify: true }, { url }), undefined, 'the default given is no change');
  assert.is(transportChange(verified, 'headers', { url: 'https://a.example/other' }, { url }), undefined);
  assert.is(transportChange(http, 'headers', { url, tlsVerify: false }, { url }), undefined, 'without also nothing else counts');
  const owner = { kind: 'monitor', id: 'm-1' } as const;
  for (const tlsVerify of [undefined, true, false]) {
    assert.is(secretAad(owner, 'headers', verified, { url, tlsVerify }), secretAad(owner, 'headers', http, { url }), 'ciphertexts written before also keep decrypting');
  }
});

test('an enc:v2 value relabelled enc:v1 (to drop its binding) does not decrypt: the tag covers the associated data', () => {
  const key = randomBytes(32);
  const aad = 'monitor:m-1:headers:https://a.example';
  const v2 = encryptValue(key, { authorization: 'Bearer x' }, aad);
  assert.equal(decryptValue(key, v2, aad, 'headers'), { authorization: 'Bearer x' });
  assert.throws(() => decryptValue(key, v2.replace(/^enc:v2:/, 'enc:v1:'), aad, 'headers'), /data\.headers cannot be decrypted/);
  assert.throws(() => decryptValue(key, v2, 'monitor:m-2:headers:https://a.example', 'headers'), /encrypted for another monitor/);
  assert.throws(() => decryptValue(key, 'enc:v2:AAAA', aad, 'headers'), /not a well-formed enc:v2 value/);
});

test('a module whose boundTo (also included) names a missing or secret field, or sits on a field that is not secret, is refused', () => {
  const bad = (props: Record<string, FieldSchema>) => schemaProblem({ type: 'object', properties: props });
  assert.match(bad({ headers: { secret: true, boundTo: { origin: 'url' } } })!, /headers\.boundTo must name a field that is not secret \(got "url"\)/);
  assert.match(bad({ url: { secret: true }, headers: { secret: true, boundTo: { origin: 'url' } } })!, /must name a field that is not secret/);
  assert.match(bad({ url: { type: 'string' }, note: { type: 'string', boundTo: { origin: 'url' } } })!, /note\.boundTo is set but note is not secret/);
  assert.match(bad({ url: { type: 'string' }, headers: { secret: true, boundTo: { origin: 'url', also: ['tlsVerify'] } } })!, /headers\.boundTo must name a field that is not secret \(got "tlsVerify"\)/);
  assert.match(bad({ url: { type: 'string' }, key: { secret: true }, headers: { secret: true, boundTo: { origin: 'url', also: ['key'] } } })!, /must name a field that is not secret \(got "key"\)/);
  assert.match(bad({ url: { type: 'string' }, headers: { secret: true, boundTo: { origin: 'url', also: 'tls' as never } } })!, /headers\.boundTo\.also must be a list of field names/);
  assert.is(schemaProblem(http), undefined);
});

// The decision for each shipped module's secrets (README, "Secrets"); a new secret field must be decided here too.
const DECIDED: Record<string, Record<string, unknown>> = {
  'check amqp': { url: undefined, password: { host: 'host', port: 'port', also: ['tls'] } },
  'check datadog-webhook': { token: undefined }, 'check heartbeat': { token: undefined }, 'check webhook': { token: undefined },
  ...Object.fromEntries(['http-get-statuscode', 'http-json', 'http-keyword', 'http-post'].map((c) => [`check ${c}`, { headers: { origin: 'url', also: ['tlsVerify'] } }])),
  ...Object.fromEntries(['mqtt', 'mysql', 'postgres', 'redis'].map((c) => [`check ${c}`, { password: { host: 'host', port: 'port', also: ['tls'] } }])),
  ...Object.fromEntries(['cpu-idle', 'execute-shell-command', 'filesystem-usage', 'free-memory', 'load-average', 'process-running'].map((c) => [`check ${c}`, { ssh: undefined }])),
  ...Object.fromEntries(['aws-ec2-reboot', 'aws-ec2-start', 'aws-ec2-stop'].map((r) => [`reaction ${r}`, { accessKeyId: { origin: 'baseUrl' }, secretAccessKey: { origin: 'baseUrl' }, sessionToken: { origin: 'baseUrl' } }])),
  'reaction cloudflare-dns-failover': { apiToken: { origin: 'baseUrl' } },
  'reaction digitalocean-power-cycle': { apiToken: { origin: 'baseUrl' } }, 'reaction digitalocean-reboot': { apiToken: { origin: 'baseUrl' } },
  'reaction email': { password: { host: 'host', port: 'port', also: ['security', 'tlsVerify'] } },
  'reaction http': { headers: { origin: 'url' } }, 'reaction webhook': { headers: { origin: 'url' } },
  'reaction pagerduty': { routingKey: { origin: 'baseUrl' } },
  'reaction saltstack': { password: { origin: 'url', also: ['tlsVerify'] } },
  'reaction slack': { webhookUrl: undefined },
  'reaction ssh-command': { ssh: undefined },
};

test('every shipped module\'s secret field is bound as decided', async () => {
  const found: Record<string, Record<string, unknown>> = {};
  for (const [kind, loader] of [['check', checkLoader()], ['reaction', reactionLoader()]] as const) {
    for (const name of loader.list()) {
      const fields = (await loader.load(name)).meta.fields;
      const secret = secretFields(fields);
      if (secret.length) found[`${kind} ${name}`] = Object.fromEntries(secret.map((f) => [f, fields.properties![f]!.boundTo]));
    }
  }
  assert.equal(found, DECIDED);
});

test.run();
