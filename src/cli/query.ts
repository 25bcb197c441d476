/** The wildkat-query command: flags → queries → table, JSON or CSV. */
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AnnounceEvent } from '../protocol/types.js';
import { parseBatchFile, runBatch } from '../query/batch.js';
import { runChecks, type CheckReport } from '../query/check.js';
import { UsageError } from '../query/errors.js';
import {
  batchCsv,
  batchSummary,
  batchSummaryTable,
  colourWanted,
  csvLine,
  painter,
  resultCsv,
  resultJson,
  resultTable,
  type OutputFormat,
  type Painter,
} from '../query/format.js';
import { DEFAULT_VERSION, qbittorrent, randomQbittorrent } from '../query/identity.js';
import { runWithRetry, type QueryMode, type QueryRequest, type QueryResult } from '../query/run.js';
import type { QueryOptions } from '../query/types.js';
import { parseTrackerUrl, scrapePathFor, type TrackerUrl } from '../query/url.js';
import { VERSION } from '../runtime/version.js';

const EXIT_OK = 0;
const EXIT_TRACKER = 1;
const EXIT_USAGE = 2;
const LEFT_DEFAULT = 1_000_000_000;

interface QueryFlags {
  tracker?: string;
  hash: string[];
  event: string;
  numwant: number;
  scrape: boolean;
  fullScrape: boolean;
  showPeers: boolean;
  lookup: boolean;
  output: string;
  randomQb: boolean;
  batch: boolean;
  file?: string;
  delay: number;
  retry?: number | true;
  jobs: number;
  check: boolean;
  nocolor: boolean;
  timeout: number;
  port: number;
  ipv4: boolean;
  ipv6: boolean;
  caCert?: string;
  insecure: boolean;
  udp?: string;
  /** false with --no-stop. */
  stop: boolean;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

function seconds(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new InvalidArgumentError('must be a number of seconds.');
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  return new Command('wildkat-query')
    .description('Query and diagnose any BitTorrent tracker over HTTP, HTTPS or UDP.')
    .version(VERSION, '-V, --version')
    .option('-t, --tracker <url>', 'tracker announce URL (http://, https://, udp://)')
    // One default in --help: commander's own "(default: [])" would stand beside ours.
    .addOption(new Option('-H, --hash <hex>', 'info_hash, 40 hex digits (repeat for a multi-hash scrape; --check announces on it)').argParser(collect).default([], 'random'))
    .addOption(new Option('-e, --event <event>', 'announce event').choices(['started', 'completed', 'stopped', 'none']).default('started'))
    .option('-n, --numwant <n>', 'peers wanted', integer(0, 100_000), 50)
    .option('-s, --scrape', 'scrape instead of announce', false)
    .option('--full-scrape', 'scrape with no info_hash (tests whether the tracker allows it)', false)
    .option('-p, --show-peers', 'list the peers returned', false)
    .option('-l, --lookup', 'reverse-DNS the peers (needs -p)', false)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('-r, --random-qb', 'impersonate a random qBittorrent version (re-picked per tracker)', false)
    .option('-b, --batch', 'query every tracker listed in -f FILE', false)
    .option('-f, --file <path>', 'batch file: one tracker URL a line, # comments')
    .option('-d, --delay <seconds>', 'pause between queries in a batch, and between retries', seconds, 0)
    .option('-j, --jobs <n>', 'queries at once in a batch', integer(1, 64), 4)
    .option('-R, --retry [n]', 'retry until success, or at most n attempts', integer(1, 1_000_000))
    .option('--check', 'compliance report for the tracker (PASS/WARN/FAIL per check)', false)
    .option('--udp <url>', 'with --check of an http(s):// tracker: its UDP announce URL to probe (default: none for https://, the same port for http://)')
    .option('--no-stop', 'after an announce, stay in the swarm (by default event=stopped follows, so no phantom peer is left for the peer TTL)')
    .option('--timeout <seconds>', 'time allowed per query', seconds, 12)
    .option('--port <port>', 'the port announced for this client', integer(1, 65535), 6881)
    .option('-4, --ipv4', 'reach the tracker over IPv4 only', false)
    .option('-6, --ipv6', 'reach the tracker over IPv6 only', false)
    .option('--ca-cert <file>', 'also trust this CA certificate (PEM) for https://')
    .option('-k, --insecure', 'do not verify the tracker\'s TLS certificate', false)
    .option('--nocolor', 'no colour (also: NO_COLOR=1)', false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`wildkat-query: ${text.replace(/^error: /, '')}`) });
}

function parseHash(hex: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new UsageError(`-H: an info_hash is 40 hex digits, got ${JSON.stringify(hex)}`);
  return Buffer.from(hex, 'hex').toString('latin1');
}

interface Plan {
  flags: QueryFlags;
  format: OutputFormat;
  mode: QueryMode;
  infoHashes: string[];
  /** The -H info_hash, if given (--check uses it; random ones otherwise). */
  givenHash?: string;
  udpUrl?: TrackerUrl;
  trackers: TrackerUrl[];
  baseOptions: Omit<QueryOptions, 'identity'>;
}

function plan(flags: QueryFlags): Plan {
  if (flags.lookup && !flags.showPeers) throw new UsageError('-l/--lookup needs -p/--show-peers');
  if (flags.ipv4 && flags.ipv6) throw new UsageError('-4 and -6: choose one');
  if (flags.timeout <= 0) throw new UsageError('--timeout: must be more than 0 seconds');
  if (flags.scrape && flags.fullScrape) throw new UsageError('--full-scrape: already a scrape; leave out -s');
  const infoHashes = flags.hash.map(parseHash);
  const mode: QueryMode = flags.fullScrape ? 'full-scrape' : flags.scrape ? 'scrape' : 'announce';
  if (infoHashes.length > 1 && flags.check) throw new UsageError('-H: --check announces on one info_hash');
  if (infoHashes.length > 1 && mode !== 'scrape') throw new UsageError('-H: several info_hashes only with -s/--scrape');
  const givenHash = infoHashes[0];
  if (infoHashes.length === 0) infoHashes.push(randomBytes(20).toString('latin1'));
  let trackers: TrackerUrl[];
  if (flags.batch) {
    if (flags.file === undefined) throw new UsageError('-b/--batch needs -f FILE');
    if (flags.check) throw new UsageError('--check takes one tracker (-t), not a batch');
    let text: string;
    try {
      text = readFileSync(flags.file, 'utf8');
    } catch (err) {
      throw new UsageError(`-f: cannot read ${flags.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    trackers = parseBatchFile(text).map((line, i) => parseTrackerUrl(line, `-f ${flags.file}:${i + 1}`));
    if (trackers.length === 0) throw new UsageError(`-f: ${flags.file} lists no tracker URLs`);
  } else {
    if (flags.tracker === undefined) throw new UsageError('-t/--tracker: which tracker? e.g. -t udp://tracker.example.net:6969/announce');
    if (flags.file !== undefined) throw new UsageError('-f: only with -b/--batch');
    trackers = [parseTrackerUrl(flags.tracker)];
    if (mode !== 'announce' && trackers[0]!.transport !== 'udp') scrapePathFor(trackers[0]!);
  }
  let udpUrl: TrackerUrl | undefined;
  if (flags.udp !== undefined) {
    if (!flags.check) throw new UsageError('--udp: only with --check');
    if (trackers[0]!.transport === 'udp') throw new UsageError('--udp: the tracker is already udp://; --udp names the UDP URL of an http(s):// tracker');
    udpUrl = parseTrackerUrl(flags.udp, '--udp');
    if (udpUrl.transport !== 'udp') throw new UsageError(`--udp: a udp:// URL, got ${JSON.stringify(flags.udp)}`);
  }
  let ca: Buffer | undefined;
  if (flags.caCert !== undefined) {
    try {
      ca = readFileSync(flags.caCert);
    } catch (err) {
      throw new UsageError(`--ca-cert: cannot read ${flags.caCert} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return {
    flags,
    format: flags.output as OutputFormat,
    mode,
    infoHashes,
    ...(givenHash !== undefined ? { givenHash } : {}),
    ...(udpUrl !== undefined ? { udpUrl } : {}),
    trackers,
    baseOptions: {
      timeoutMs: Math.round(flags.timeout * 1000),
      ...(flags.ipv4 ? { family: 4 as const } : flags.ipv6 ? { family: 6 as const } : {}),
      ...(ca !== undefined ? { ca } : {}),
      insecure: flags.insecure,
    },
  };
}

function requestFor(p: Plan, tracker: TrackerUrl): QueryRequest {
  const identity = p.flags.randomQb ? randomQbittorrent() : qbittorrent(DEFAULT_VERSION);
  const event = p.flags.event as AnnounceEvent;
  return {
    tracker,
    mode: p.mode,
    infoHashes: p.infoHashes,
    lookup: p.flags.lookup,
    stopAfter: p.flags.stop,
    options: { ...p.baseOptions, identity },
    params: {
      infoHash: p.infoHashes[0]!,
      event,
      numwant: p.flags.numwant,
      port: p.flags.port,
      left: event === 'completed' ? 0 : LEFT_DEFAULT,
      compact: true,
      noPeerId: true,
      key: randomInt(0, 2 ** 31),
    },
  };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function checkOutput(tracker: string, report: CheckReport, format: OutputFormat, paint: Painter): string {
  const { items, notes } = report;
  const count = (s: string): number => items.filter((i) => i.status === s).length;
  if (format === 'json') {
    return JSON.stringify({ tracker, checks: items, summary: { pass: count('PASS'), warn: count('WARN'), fail: count('FAIL') }, notes }, null, 2) + '\n';
  }
  if (format === 'csv') {
    return [csvLine(['check', 'status', 'detail']), ...items.map((i) => csvLine([i.check, i.status, i.detail])), ...notes.map((n) => csvLine(['note', '', n]))].join('\n') + '\n';
  }
  const width = Math.max(...items.map((i) => i.check.length));
  const mark = (s: string): string => (s === 'PASS' ? paint.ok(s) : s === 'WARN' ? paint.warn(s) : paint.fail(s));
  return [
    paint.bold(`Compliance check: ${tracker}`),
    ...items.map((i) => `  ${mark(i.status)}  ${i.check.padEnd(width)}  ${i.detail}`),
    `  ${count('PASS')} passed, ${plural(count('WARN'), 'warning')}, ${count('FAIL')} failed`,
    ...notes.map((n) => paint.dim(`  note: ${n}`)),
  ].join('\n') + '\n';
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw err;
  }
  let p: Plan;
  try {
    p = plan(program.opts<QueryFlags>());
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`wildkat-query: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const out = process.stdout;
  const paint = painter(colourWanted(out.isTTY === true, p.flags.nocolor, process.env));
  const tracker = p.trackers[0]!;

  if (p.flags.check) {
    const report = await runChecks(tracker, { ...p.baseOptions, identity: qbittorrent(DEFAULT_VERSION) }, {
      ...(p.givenHash !== undefined ? { infoHash: p.givenHash } : {}),
      ...(p.udpUrl !== undefined ? { udpUrl: p.udpUrl } : {}),
    });
    out.write(checkOutput(tracker.href, report, p.format, paint));
    return report.items.some((i) => i.status === 'FAIL') ? EXIT_TRACKER : EXIT_OK;
  }

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const retry = {
    maxAttempts: p.flags.retry === undefined ? 1 : p.flags.retry === true ? null : p.flags.retry,
    delayMs: Math.max(p.flags.delay * 1000, p.flags.retry === undefined ? 0 : 1000),
    signal: abort.signal,
    onRetry: (attempt: number, last: QueryResult): void => {
      if (p.format === 'table' && !p.flags.batch) process.stderr.write(`attempt ${attempt} failed: ${last.error ?? 'unknown'}; retrying\n`);
    },
  };
  const one = (t: TrackerUrl): Promise<QueryResult> => runWithRetry(requestFor(p, t), retry, () => requestFor(p, t));

  if (!p.flags.batch) {
    const result = await one(tracker);
    if (p.format === 'json') out.write(JSON.stringify(resultJson(result, p.flags.lookup), null, 2) + '\n');
    else if (p.format === 'csv') out.write(resultCsv(result, p.flags.lookup));
    else out.write(resultTable(result, { showPeers: p.flags.showPeers, lookup: p.flags.lookup, paint }));
    return result.ok ? EXIT_OK : EXIT_TRACKER;
  }

  const showProgress = p.format === 'table' && process.stderr.isTTY === true;
  const results = await runBatch(p.trackers, one, {
    parallel: p.flags.jobs,
    delayMs: p.flags.delay * 1000,
    onProgress: showProgress ? (done, total) => process.stderr.write(`\r\x1b[K[${done}/${total}] queried`) : undefined,
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (p.format === 'json') {
    out.write(JSON.stringify({ results: results.map((r) => resultJson(r, p.flags.lookup)), summary: batchSummary(results) }, null, 2) + '\n');
  } else if (p.format === 'csv') {
    out.write(batchCsv(results));
  } else {
    for (const r of results) out.write(resultTable(r, { showPeers: p.flags.showPeers, lookup: p.flags.lookup, paint }) + '\n');
    out.write(batchSummaryTable(results, paint));
  }
  return results.every((r) => !r.ok) ? EXIT_TRACKER : EXIT_OK;
}
