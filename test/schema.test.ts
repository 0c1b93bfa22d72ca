/** The schema subset that module fields are written in: the problems a user sees at `monitor add` / `reaction add`. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exactlyOneOf, validate } from '../src/core/schema.js';
import type { FieldSchema } from '../src/core/types.js';

const login: FieldSchema = {
  type: 'object',
  properties: {
    user: { type: 'string', minLength: 1 },
    key: { type: 'string' },
    passphrase: { type: 'string' },
    password: { type: 'string' },
    hosts: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9.-]+$' }, minItems: 1, maxItems: 3 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    mode: { enum: ['fast', 'safe'] },
  },
  required: ['user'],
  oneOf: exactlyOneOf('key', 'password'),
  dependentRequired: { passphrase: ['key'] },
  additionalProperties: false,
};

test('valid data has no problems', () => {
  assert.equal(validate(login, { user: 'root', key: 'k', passphrase: 'p', hosts: ['a', 'b'], port: 22, mode: 'safe' }), []);
  assert.equal(validate(login, { user: 'root', password: 'pw' }), []);
});

test('each problem names the field and what is wrong', () => {
  assert.equal(validate(login, { key: 'k' }), ['data.user is required']);
  assert.equal(validate(login, { user: 'root', key: 'k', port: 0 }), ['data.port must be >= 1']);
  assert.equal(validate(login, { user: 'root', key: 'k', port: 2.5 }), ['data.port must be an integer, got number']);
  assert.equal(validate(login, { user: 'root', key: 'k', mode: 'slow' }), ['data.mode must be one of "fast", "safe"']);
  assert.equal(validate(login, { user: 'root', key: 'k', hosts: ['A'] }), ['data.hosts[0] must match ^[a-z0-9.-]+$']);
  assert.equal(validate(login, { user: 'root', key: 'k', shell: 'bash' }), ['data.shell is not a known field']);
  assert.equal(validate(login, 'root'), ['data must be an object, got string']);
});

test('minItems and maxItems', () => {
  assert.equal(validate(login, { user: 'root', key: 'k', hosts: [] }), ['data.hosts must have at least 1 item']);
  assert.equal(validate(login, { user: 'root', key: 'k', hosts: ['a', 'b', 'c', 'd'] }), ['data.hosts must have at most 3 items']);
  assert.equal(validate({ type: 'array', minItems: 2 }, [1]), ['data must have at least 2 items']);
});

test('exactly one of several fields: both and neither are named', () => {
  assert.equal(validate(login, { user: 'root', key: 'k', password: 'pw' }), ['data must set exactly one of key, password (it sets key and password)']);
  assert.equal(validate(login, { user: 'root' }), ['data must set exactly one of key, password (it sets none)']);
});

test('a field that needs another', () => {
  assert.equal(validate(login, { user: 'root', password: 'pw', passphrase: 'p' }), ['data.key is required when data.passphrase is set']);
});

test('oneOf of other schemas says how many alternatives matched', () => {
  const either: FieldSchema = { oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] };
  assert.equal(validate(either, 'x'), []);
  assert.equal(validate(either, 3), []);
  assert.equal(validate(either, -1), ['data must match exactly one of 2 alternatives (it matches 0)']);
  assert.equal(validate({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 3), ['data must match exactly one of 2 alternatives (it matches 2)']);
});

test('rules inside nested objects name the nested path', () => {
  const outer: FieldSchema = { type: 'object', properties: { ssh: login } };
  assert.equal(validate(outer, { ssh: { user: 'root' } }), ['data.ssh must set exactly one of key, password (it sets none)']);
});

test('a field set to undefined in code counts as absent', () => {
  assert.equal(validate(login, { user: 'root', key: 'k', password: undefined, port: undefined }), []);
  assert.equal(validate(login, { user: undefined, key: 'k' }), ['data.user is required']);
});

test('formats, propertyNames and maxLength: URLs to call and request headers as HTTP allows', () => {
  const request: FieldSchema = {
    type: 'object',
    properties: {
      url: { type: 'string', format: 'http-url' },
      note: { type: 'string', maxLength: 5 },
      headers: { type: 'object', propertyNames: { type: 'string', format: 'http-header-name' }, additionalProperties: { type: 'string', format: 'http-header-value' } },
    },
  };
  assert.equal(validate(request, { url: 'https://example.com:8443/a?b=c', note: 'short', headers: { 'X-Token': 'a b\tc', Accept: '*/*' } }), []);
  assert.equal(validate(request, { url: 'gopher://example.com/' }), ['data.url must be an http:// or https:// URL, not gopher:']);
  assert.equal(validate(request, { url: '//example.com/' }), ['data.url is not a URL: give an address such as https://example.com/path']);
  assert.equal(validate(request, { note: 'toolong' }), ['data.note must have at most 5 characters']);
  const problems = validate(request, { headers: { 'X-A': 'ok\r\nX-B: injected', 'X(C)': 'v', Upgrade: 'h2c', 'X-D': 'trailing ' } });
  assert.equal(problems, [
    'data.headers.X-A is not a valid HTTP header value: it contains a line break (CR or LF) or NUL',
    "data.headers.X(C) is not a valid HTTP header name: use letters, digits and !#$%&'*+.^_`|~- only (no spaces, colons or control characters)",
    'data.headers.Upgrade is set by the HTTP client itself and cannot be given',
    'data.headers.X-D is not a valid HTTP header value: it starts or ends with a space or tab',
  ]);
  assert.not.ok(problems.join().includes('injected'), 'a value, which may be a secret, is never quoted');
});

test.run();
