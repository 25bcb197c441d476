/**
 * Real BitTorrent clients for the end-to-end tests, each in its own scratch
 * folder (HOME and XDG_* point there, so no real user's settings are
 * touched), started and stopped by PID.
 *
 * What makes several clients work on one loopback host:
 * - Torrents are private (mktorrent -p): no DHT, PEX or local discovery, so
 *   peers can only meet through our tracker.
 * - Every client gets its own listen port; all share 127.0.0.1 (or ::1), so
 *   the tracker hands out one IP with different ports.
 * - Transmission 3.00 never connects out to 127.x/::1 addresses (it treats
 *   them as invalid) but accepts incoming connections; the other client must
 *   learn of Transmission from the tracker and connect in. aria2 re-announces
 *   every few seconds (--bt-tracker-interval) so it learns of a Transmission
 *   that announced after it.
 * - aria2 sends UDP tracker traffic through its DHT socket: with DHT off,
 *   udp:// announces silently time out. DHT stays on, bound to loopback
 *   (--interface); the torrent is private, so DHT finds nothing.
 * - qBittorrent-nox needs its config written before the first start: the
 *   legal notice accepted, several connections per IP allowed (every peer is
 *   the same IP), bound to the loopback address, DHT/LSD/PeX off, and peer
 *   country lookup off (it would try to download a database).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientRun {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): void;
}

function run(name: string, command: string, args: string[], home: string): ClientRun {
  mkdirSync(home, { recursive: true });
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: home,
  };
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    name,
    child,
    output: () => out,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface ClientOptions {
  torrent: string;
  /** Where the data is (seeder) or goes (leecher). */
  dir: string;
  /** Scratch folder for this client's settings. */
  home: string;
  listenPort: number;
  /** Another free port (aria2's DHT, qBittorrent's web UI). */
  extraPort: number;
  seeding: boolean;
  family: 4 | 6;
}

export function aria2(o: ClientOptions): ClientRun {
  const address = o.family === 4 ? '127.0.0.1' : '::1';
  const args = [
    `--dir=${o.dir}`,
    `--listen-port=${o.listenPort}`,
    '--seed-ratio=0.0', // keep seeding after the download, until stopped
    '--bt-tracker-interval=3',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--bt-max-peers=10',
    '--allow-overwrite=true',
    '--auto-file-renaming=false',
    '--summary-interval=0',
    '--console-log-level=notice',
    '--file-allocation=none',
    `--interface=${address}`,
  ];
  if (o.family === 4) args.push('--enable-dht=true', `--dht-listen-port=${o.extraPort}`, `--dht-file-path=${join(o.home, 'dht.dat')}`, '--enable-dht6=false');
  else args.push('--enable-dht=false', '--enable-dht6=false', '--disable-ipv6=false');
  if (o.seeding) args.push('--check-integrity=true');
  args.push(o.torrent);
  return run('aria2', 'aria2c', args, o.home);
}

export function transmission(o: ClientOptions): ClientRun {
  const config = join(o.home, 'transmission');
  mkdirSync(config, { recursive: true });
  writeFileSync(
    join(config, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'peer-port': o.listenPort,
      'peer-port-random-on-start': false,
      'bind-address-ipv4': '127.0.0.1',
      'ratio-limit-enabled': false,
      'rpc-enabled': false,
      'message-level': 2,
    }),
  );
  // No -v for the seeder: transmission-cli verifies a new torrent whose data
  // is already there by itself, and announces as a seeder once it has; a
  // second verification asked with -v stops the torrent for a moment, and
  // the CLI, which exits when its torrent is stopped, quit at once now and
  // then (seen in CI: "Removing torrent", exit 0, 0.25 s after start).
  const args = ['-g', config, '-w', o.dir, '-p', String(o.listenPort), o.torrent];
  return run('transmission', 'transmission-cli', args, o.home);
}

export function qbittorrent(o: ClientOptions): ClientRun {
  const profile = join(o.home, 'profile');
  const confDir = join(profile, 'qBittorrent', 'config');
  mkdirSync(confDir, { recursive: true });
  const address = o.family === 4 ? '127.0.0.1' : '::1';
  writeFileSync(
    join(confDir, 'qBittorrent.conf'),
    [
      '[LegalNotice]',
      'Accepted=true',
      '',
      '[BitTorrent]',
      'Session\\DHTEnabled=false',
      'Session\\LSDEnabled=false',
      'Session\\PeXEnabled=false',
      'Session\\MultiConnectionsPerIp=true',
      `Session\\InterfaceAddress=${address}`,
      'Session\\Interface=lo',
      'Session\\InterfaceName=lo',
      `Session\\Port=${o.listenPort}`,
      'Session\\AnonymousModeEnabled=false',
      'Session\\GlobalMaxRatio=-1',
      '',
      '[Preferences]',
      'Connection\\ResolvePeerCountries=false',
      'General\\Locale=en',
      `WebUI\\Port=${o.extraPort}`,
      'WebUI\\Address=127.0.0.1',
      '',
    ].join('\n'),
  );
  const args = [`--profile=${profile}`, `--webui-port=${o.extraPort}`, `--save-path=${o.dir}`, '--skip-dialog=true'];
  if (o.seeding) args.push('--skip-hash-check');
  args.push(o.torrent);
  return run('qbittorrent', 'qbittorrent-nox', args, o.home);
}
