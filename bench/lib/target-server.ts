/**
 * Bench child: the HTTP target every monitor checks. Answers 200 at once on 0.0.0.0 (so every
 * 127.x.y.z reaches it), prints its port as one JSON line, answers "count" on stdin with the
 * requests served and connections accepted so far, and exits when its parent goes away (stdin closes).
 */
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

let served = 0;
let connections = 0;
const BODY = Buffer.from('ok');
const server = createServer((_req, res) => {
  served++;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
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
