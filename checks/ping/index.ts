/** Check: a host answers ICMP echo requests sent by the system's ping (iputils), within loss and round-trip limits. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { hostFor, outputTail, type RunResult } from '../../plugin-support/host.js';

const HOST_PATTERN = '^[A-Za-z0-9_.:%][A-Za-z0-9_.:%-]*$';

export const meta: PluginMeta = {
  title: 'Ping',
  description:
    "Runs the worker machine's ping (iputils) to send count ICMP echo requests to host, intervalMs apart, waiting waitMs " +
    'for the last reply. Healthy when the share of requests left unanswered is at most maxLossPercent (default 0: every ' +
    'request must be answered; a monitor\'s reaction trigger absorbs one-off losses, or set e.g. 34 to allow one in three) ' +
    'and, with maxRttMs, the average (or, with rttStatistic "max", the largest) round-trip time is at most maxRttMs. ' +
    'Failed with the loss and round-trip times otherwise, or when host cannot be resolved or reached, or the run passes ' +
    'the time limit (ping is then killed). Unknown when ping cannot run here: not installed (install iputils-ping) or not ' +
    'allowed to open an ICMP socket (give /usr/bin/ping cap_net_raw, or let the worker\'s group in with the sysctl ' +
    'net.ipv4.ping_group_range). Metrics: lossPercent, transmitted, received, rttMinMs, rttAvgMs, rttMaxMs.',
  fields: {
    type: 'object',
    properties: {
      host: { type: 'string', description: 'Host name or IP address to ping; never starts with "-".', minLength: 1, pattern: HOST_PATTERN },
      count: { type: 'integer', description: 'Echo requests to send, 1-20; default 3.', minimum: 1, maximum: 20, default: 3 },
      intervalMs: { type: 'integer', description: 'Milliseconds between requests, at least 200 (the least ping allows every user); default 200.', minimum: 200, maximum: 60_000, default: 200 },
      waitMs: { type: 'integer', description: 'Milliseconds to wait for a reply after the last request; default 1000.', minimum: 100, maximum: 60_000, default: 1000 },
      maxLossPercent: { type: 'number', description: 'Largest share of unanswered requests, 0-100, that is still healthy; default 0.', minimum: 0, maximum: 100, default: 0 },
      maxRttMs: { type: 'number', description: 'Largest round-trip time in milliseconds that is healthy (see rttStatistic); default none.', minimum: 0, maximum: 600_000 },
      rttStatistic: { type: 'string', description: 'Which round-trip time maxRttMs bounds: "avg" (default) or "max".', enum: ['avg', 'max'], default: 'avg' },
      ipVersion: { type: 'integer', description: '4 or 6 to force ping -4 or -6; default: whichever host resolves to.', enum: [4, 6] },
      timeoutMs: timeoutField,
    },
    required: ['host'],
    additionalProperties: false,
  },
};

interface PingStats {
  transmitted: number;
  received: number;
  lossPercent: number;
  rtt?: { min: number; avg: number; max: number; mdev: number };
}

/** The summary lines of iputils ping, when it printed them. */
export function parsePing(stdout: string): PingStats | undefined {
  const counts = /(\d+) packets transmitted, (\d+) received,.*?([\d.]+)% packet loss/.exec(stdout);
  if (!counts) return undefined;
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
  return {
    transmitted: Number(counts[1]),
    received: Number(counts[2]),
    lossPercent: Number(counts[3]),
    rtt: rtt ? { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]), mdev: Number(rtt[4]) } : undefined,
  };
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Why ping could not even start sending: unknown when the fault is this machine's, failed when it is the target's. */
function cannotPing(host: string, r: RunResult, label: string): CheckResult {
  if (r.spawnError) {
    const missing = r.spawnError.startsWith('ENOENT');
    return { status: 'unknown', message: `cannot run ping on ${label}: ${missing ? 'it is not installed (install iputils-ping)' : r.spawnError}` };
  }
  const said = outputTail(r);
  if (/Operation not permitted|Permission denied/i.test(said)) {
    return {
      status: 'unknown',
      message:
        `ping on ${label} may not open an ICMP socket (${said}): give /usr/bin/ping cap_net_raw ` +
        '(setcap cap_net_raw+ep /usr/bin/ping) or allow the worker\'s group with sysctl net.ipv4.ping_group_range',
    };
  }
  if (/Name or service not known|Temporary failure in name resolution|No address associated|unknown host/i.test(said)) {
    return { status: 'failed', message: `cannot resolve ${host}: ${said.replace(/^ping: /, '')}` };
  }
  if (/unreachable|Cannot assign requested address|Address family/i.test(said)) return { status: 'failed', message: `${host}: ${said.replace(/^ping: /, '')}` };
  return { status: 'unknown', message: `ping ${host} on ${label} ended with exit status ${r.code ?? r.killedBy}${said ? `: ${said}` : ''}` };
}

/** Pings data.host; failed when loss or round-trip time passes its limit, or the host cannot be reached. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const d = job.data;
  const host = typeof d.host === 'string' ? d.host : '';
  if (!new RegExp(HOST_PATTERN).test(host)) {
    return { status: 'unknown', message: `monitor "${job.name}": data.host ${JSON.stringify(d.host)} must be a host name or IP address not starting with "-"` };
  }
  const count = Math.min(20, Math.max(1, Math.round(num(d.count, 3))));
  const intervalMs = Math.max(200, num(d.intervalMs, 200));
  const waitMs = Math.max(100, num(d.waitMs, 1000));
  const maxLoss = num(d.maxLossPercent, 0);
  const maxRtt = typeof d.maxRttMs === 'number' ? d.maxRttMs : undefined;
  const statistic = d.rttStatistic === 'max' ? 'max' : 'avg';
  const argv = ['ping', '-n', '-c', String(count), '-i', String(intervalMs / 1000), '-W', String(waitMs / 1000)];
  if (d.ipVersion === 4 || d.ipVersion === 6) argv.push(`-${d.ipVersion}`);
  argv.push('--', host);

  const machine = hostFor(job, ctx.signal);
  const limit = timeLimit(job);
  const r = await machine.run({ argv }, { signal: ctx.signal, timeoutMs: limit });
  const stats = parsePing(r.stdout);
  const metrics: Record<string, number> = {};
  if (stats) {
    Object.assign(metrics, { lossPercent: stats.lossPercent, transmitted: stats.transmitted, received: stats.received });
    if (stats.rtt) Object.assign(metrics, { rttMinMs: stats.rtt.min, rttAvgMs: stats.rtt.avg, rttMaxMs: stats.rtt.max });
  }
  const latencyMs = stats?.rtt?.avg;
  if (r.timedOut) {
    const replies = (r.stdout.match(/ bytes from /g) ?? []).length;
    const needs = (count - 1) * intervalMs + waitMs;
    return {
      status: 'failed',
      message:
        `ping ${host} timed out after ${r.elapsedMs} ms with ${replies} repl${replies === 1 ? 'y' : 'ies'} so far (ping killed)` +
        (needs > limit ? `; ${count} requests ${intervalMs} ms apart and a ${waitMs} ms wait need about ${needs} ms, more than the ${limit} ms limit` : ''),
      metrics,
    };
  }
  if (!stats) return cannotPing(host, r, machine.label);

  const unreachable = /(Destination [\w ]*Unreachable|Time to live exceeded|Packet filtered)/i.exec(r.stdout)?.[1];
  const summary = `${stats.received} of ${stats.transmitted} replies, ${stats.lossPercent}% loss`;
  const rttText = stats.rtt ? `, rtt min/avg/max ${stats.rtt.min}/${stats.rtt.avg}/${stats.rtt.max} ms` : '';
  if (stats.received === 0 || stats.lossPercent > maxLoss) {
    const limitText = stats.received === 0 ? '' : ` (maxLossPercent ${maxLoss})`;
    return { status: 'failed', message: `${host}: ${summary}${limitText}${rttText}${unreachable ? `; ${unreachable}` : ''}`, latencyMs, metrics };
  }
  const rtt = stats.rtt?.[statistic];
  if (maxRtt !== undefined && rtt !== undefined && rtt > maxRtt) {
    return { status: 'failed', message: `${host}: rtt ${statistic} ${rtt} ms is over maxRttMs ${maxRtt} (${summary}${rttText})`, latencyMs, metrics };
  }
  return { status: 'healthy', message: `${host}: ${summary}${rttText}`, latencyMs, metrics };
}
