/** The test runner itself: a throwing hook or a skipped test fails its file with the reason, and npm test's preflight names missing tools. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = 'test/fixtures/runner';

/** `node test/run.js` over the runner fixtures (or those whose path contains `only`). */
function runFixtures(...only: string[]) {
  const r = spawnSync(process.execPath, ['test/run.js', ...only], { cwd: REPO, encoding: 'utf8', env: { ...process.env, TEST_ROOT: FIXTURES }, timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** The runner's one summary line for `name`. */
const line = (out: string, name: string) => out.split('\n').find((l) => l.endsWith(name) || l.includes(`${name} (`)) ?? '';

test('a before hook that throws fails its file, printing the error and where it was thrown', () => {
  const { code, out } = runFixtures('before-throws');
  assert.is(code, 1);
  assert.match(line(out, 'before-throws.test.js'), /^FAIL .*\(0\/1, .*a hook threw/);
  assert.match(out, 'before hook of suite "needs a server" threw:\n    Error: could not start the fixture server\n');
  assert.match(out, /at .*before-throws\.test\.js:6:/);
});

test('an after hook that throws fails its file; the suites after it still run', () => {
  const { code, out } = runFixtures('after-throws');
  assert.is(code, 1);
  assert.match(line(out, 'after-throws.test.js'), /^FAIL .*\(2\/2, .*a hook threw/);
  assert.match(out, 'after hook of suite "cleans up" threw:\n    Error: could not remove the fixture folder');
});

test('an after.each hook that throws fails its file, and every test still runs', () => {
  const { code, out } = runFixtures('after-each-throws');
  assert.is(code, 1);
  assert.match(line(out, 'after-each-throws.test.js'), /^FAIL .*\(2\/2, .*a hook threw/);
  assert.match(out, "after.each hook of the file's default suite threw:\n    Error: after.each could not reset the state");
});

test('a file with a skipped test fails, saying so', () => {
  const { code, out } = runFixtures('skipped');
  assert.is(code, 1);
  assert.match(line(out, 'skipped.test.js'), /^FAIL .*\(1\/1, .*\): 1 skipped \(test\.skip or \.only\)$/);
});

test('a file whose hooks work passes', () => {
  const { code, out } = runFixtures('passes');
  assert.is(code, 0, out);
  assert.match(out, /^ok {3}test\/fixtures\/runner\/passes\.test\.js \(1\/1, /m);
  assert.match(out, '1 passed, 0 failed');
});

/** test/preflight.js with PATH (and the system folders it also searches) set to `dir` alone. */
function preflight(dir: string) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['test/preflight.js'], { cwd: REPO, encoding: 'utf8', env: { PATH: dir, SYSTEM_TOOLS_DIRS: dir }, timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

test('preflight: a machine with none of the tools stops in one line naming each and the apt-get install that brings them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cr-preflight-'));
  try {
    symlinkSync(process.execPath, join(dir, 'node'));
    const r = preflight(dir);
    assert.is(r.code, 1);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.is(r.stdout, '');
    assert.is(
      r.stderr,
      'npm test needs redis-server, openssl, chromium, dnsmasq, ping, ip, unshare, hostname, sshd, ssh-keygen, faketime: install with ' +
        '"apt-get install redis-server openssl chromium dnsmasq-base iputils-ping iproute2 util-linux hostname openssh-server openssh-client faketime" (as .ci/run does)\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preflight: a machine without ping, dnsmasq and sshd is told exactly those', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cr-preflight-'));
  try {
    symlinkSync(process.execPath, join(dir, 'node'));
    for (const tool of ['redis-server', 'openssl', 'chromium', 'ip', 'unshare', 'hostname', 'ssh-keygen', 'faketime']) {
      const where = spawnSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      assert.ok(where, `${tool} is installed here`);
      symlinkSync(where, join(dir, tool));
    }
    const r = preflight(dir);
    assert.is(r.code, 1);
    assert.is(r.stderr, 'npm test needs dnsmasq, ping, sshd: install with "apt-get install dnsmasq-base iputils-ping openssh-server" (as .ci/run does)\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preflight: on this machine (which has every tool) it passes silently', () => {
  const r = spawnSync(process.execPath, ['test/preflight.js'], { cwd: REPO, encoding: 'utf8', timeout: 10_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout + r.stderr, '');
});

test.run();
