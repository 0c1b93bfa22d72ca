/**
 * Bench child: the HTTP target every monitor checks. Answers at once on 0.0.0.0 (so every
 * 127.x.y.z reaches it): 500 for the path /fail (the bench's failing monitors), 200 for any other, prints its port as one JSON line, answers "count" on stdin with the
 * requests served and connections accepted so far, and exits when its parent goes away (stdin closes).
 */
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

let served = 0;
let connections = 0;
const BODY = Buffer.from('ok');
const FAIL_BODY = Buffer.from('failing on purpose');
const server = createServer((req, res) => {
  served++;
  const body = req.url === '/fail' ? FAIL_BODY : BODY;
  res.writeHead(body === BODY ? 200 : 500, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.on('connection', () => connections++);
server.listen({ port: 0, host: '0.0.0.0', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n');
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'count') process.stdout.write(JSON.stringify({ served, connections }) + '\n');
});
lines.on('close', () => process.exit(0));
