/** The wildkat-tracker command: flags (the seed's CLI contract) → startTracker. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cluster from 'node:cluster';
import { hostname, networkInterfaces } from 'node:os';
import type { ListenerInfo } from '../frontend/listen.js';
import { ConfigError, DEFAULT_OPTIONS, resolveOptions, type TrackerOptions } from '../runtime/config.js';
import { createLogger, LOG_LEVELS, logLevelOf, type Logger } from '../runtime/log.js';
import { startPrimary, WorkerStartError } from '../tracker/cluster.js';
import { ListenError, startTracker } from '../tracker/daemon.js';
import { handleSignals, type Stoppable } from '../tracker/signals.js';
import { startSummary } from '../tracker/start-summary.js';
import { runWorker } from '../tracker/worker.js';
import { VERSION } from '../runtime/version.js';

const EXIT_USAGE = 2;

function integer(value: string): number {
  if (!/^-?[0-9]+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number.');
  return Number(value);
}


function cidrList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

function fatal(message: string, code: number): never {
  process.stderr.write(`wildkat-tracker: ${message}\n`);
  process.exit(code);
}

/** What commander hands back: ports as typed (0 = disabled), host optional. */
type CliFlags = Omit<TrackerOptions, PortKey | 'host' | 'cert' | 'key' | 'stateFile' | 'allowList' | 'denyList'> &
  Record<PortKey, number | undefined> & { host?: string; cert?: string; key?: string; stateFile?: string; allowList?: string; denyList?: string };

const PORT_KEYS = ['httpPort', 'udpPort', 'httpsPort', 'webHttpPort', 'webHttpsPort'] as const;
type PortKey = (typeof PORT_KEYS)[number];

export function buildProgram(): Command {
  const d = DEFAULT_OPTIONS;
  return new Command('wildkat-tracker')
    .description('A BitTorrent tracker: HTTP, HTTPS and UDP announce and scrape (BEP 3, 7, 15, 23, 24, 48).')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--http-port <port>', 'tracker HTTP listen port (0 to disable)').argParser(integer).default(d.httpPort))
    .addOption(new Option('--udp-port <port>', 'tracker UDP listen port (0 to disable)').argParser(integer).default(d.udpPort))
    .addOption(new Option('--host <address>', 'bind address (default: all interfaces)'))
    .addOption(new Option('--ipv6', 'also listen on IPv6 (::)').default(false))
    .addOption(new Option('--tracker-id <id>', 'tracker id returned in HTTP announce replies').default(d.trackerId))
    .addOption(new Option('--interval <seconds>', 'announce interval').argParser(integer).default(d.interval))
    .addOption(new Option('--min-interval <seconds>', 'minimum re-announce interval').argParser(integer).default(d.minInterval))
    .addOption(new Option('--peer-ttl <seconds>', 'seconds before an inactive peer is purged').argParser(integer).default(d.peerTtl))
    .addOption(new Option('--max-peers <n>', 'maximum peers returned per announce').argParser(integer).default(d.maxPeers))
    .addOption(
      new Option('--max-scrape-hashes <n>', 'maximum info_hashes per scrape request').argParser(integer).default(d.maxScrapeHashes),
    )
    .addOption(new Option('--full-scrape', 'allow scrape with no info_hash').default(false))
    .addOption(new Option('--verbose', 'debug logging with request and response payloads').default(false))
    .addOption(new Option('--log-level <level>', 'least severe level logged (readable lines on a terminal, JSON otherwise)').choices(LOG_LEVELS).default(d.logLevel))
    .addOption(new Option('--https-port <port>', 'tracker HTTPS listen port (needs --cert and --key; default: disabled)').argParser(integer))
    .addOption(new Option('--cert <path>', 'TLS certificate chain, PEM (e.g. acme.sh fullchain.cer)'))
    .addOption(new Option('--key <path>', 'TLS private key, PEM'))
    .addOption(new Option('--redirect-http', 'redirect tracker HTTP to HTTPS (needs --https-port)').default(false))
    .addOption(new Option('--domain <host[:port]>', 'public domain for redirects and announce URLs (port if not 443)').default(d.domain))
    .addOption(new Option('--web-http-port <port>', 'stats page HTTP listen port (0 to disable)').argParser(integer).default(d.webHttpPort))
    .addOption(new Option('--web-https-port <port>', 'stats page HTTPS listen port (same cert/key; default: disabled)').argParser(integer))
    .addOption(new Option('--web-redirect-http', 'redirect stats page HTTP to HTTPS (needs --web-https-port)').default(false))
    .addOption(new Option('--max-torrents <n>', 'most torrents held; announces for new ones beyond it are refused').argParser(integer).default(d.maxTorrents))
    .addOption(new Option('--max-connections <n>', 'most open TCP connections per HTTP(S) listener').argParser(integer).default(d.maxConnections))
    .addOption(
      new Option('--trust-proxy <cidr...>', 'believe X-Forwarded-For / X-Real-IP from these proxies (addresses or CIDRs; repeatable, or comma-separated)')
        .argParser(cidrList)
        .default([]),
    )
    .addOption(new Option('--state-file <path>', 'save swarms here on shutdown and every --state-interval seconds; load them on start'))
    .addOption(new Option('--state-interval <seconds>', 'seconds between state saves').argParser(integer).default(d.stateInterval))
    .addOption(new Option('--store <url>', 'where swarms live: memory, or redis://[user:password@]host:port[/db] (rediss:// for TLS) shared by several trackers').default(d.store))
    .addOption(new Option('--workers <n>', 'worker processes sharing the ports (needs --store redis://…)').argParser(integer).default(d.workers))
    .addOption(new Option('--allow-list <file>', 'track only the info hashes in this file (one per line; reloaded on SIGHUP and when it changes)'))
    .addOption(new Option('--deny-list <file>', 'refuse the info hashes in this file (one per line; reloaded on SIGHUP and when it changes)'))
    .addOption(new Option('--no-metrics', 'do not serve /metrics (Prometheus) on the stats page'))
    .addOption(new Option('--no-websocket', 'do not accept WebSocket (WebTorrent browser) peers on the tracker HTTP/HTTPS ports'))
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`wildkat-tracker: ${text.replace(/^error: /, '')}`) });
}

/** On the command line a port of 0 (or none) disables the listener, as in the original. */
function toOptions(flags: CliFlags): Partial<TrackerOptions> {
  const options: Partial<TrackerOptions> = {
    ...flags,
    host: flags.host ?? null,
    cert: flags.cert ?? null,
    key: flags.key ?? null,
    stateFile: flags.stateFile ?? null,
    allowList: flags.allowList ?? null,
    denyList: flags.denyList ?? null,
  };
  for (const key of PORT_KEYS) {
    const port = flags[key];
    options[key] = port === undefined || port === 0 ? null : port;
  }
  return options;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    throw err;
  }
  const input = toOptions(program.opts<CliFlags>());
  if (cluster.isWorker) {
    await runWorker(input);
    return;
  }
  let tracker: Stoppable & { logger: Logger; listeners: readonly ListenerInfo[] };
  let options: TrackerOptions;
  try {
    options = resolveOptions(input);
    tracker = options.workers > 1 ? await startPrimary(options, createLogger(logLevelOf(options))) : await startTracker(options);
  } catch (err) {
    if (err instanceof ConfigError) fatal(err.message, EXIT_USAGE);
    if (err instanceof ListenError) fatal(err.message, 1);
    if (err instanceof WorkerStartError) fatal(err.message, err.usage ? EXIT_USAGE : 1);
    throw err;
  }
  if (process.stdout.isTTY === true) {
    const addresses6 = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((i) => i.family === 'IPv6' && !i.internal && !i.address.startsWith('fe80'))
      .map((i) => i.address);
    process.stdout.write(startSummary({ options, listeners: tracker.listeners, version: VERSION, hostName: hostname(), addresses6 }));
  }
  handleSignals(tracker, { on: (signal, fn) => process.on(signal, fn), exit: (code) => process.exit(code), logger: tracker.logger });

}
