/** Operations: the systemd unit, the deploy script (with rollback), and the npm package. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { httpGet, freePort, waitFor } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(ROOT, 'systemd/wildkat-tracker.service');
const DEPLOY = join(ROOT, 'deploy/deploy.sh');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const inCi = process.env['CI'] !== undefined;

describe('systemd unit', { skip: has('systemd-analyze') || inCi ? false : 'systemd-analyze is not installed' }, () => {
  test('systemd-analyze verify passes', () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '');
  });

  test('the security exposure score is no worse than the one recorded in INSTALL.md', () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8' });
    const score = /Overall exposure level for wildkat-tracker\.service: ([0-9.]+)/.exec(r.stdout);
    assert.ok(score, r.stdout + r.stderr);
    const recorded = /exposure level[^0-9]*([0-9]+\.[0-9])/i.exec(readFileSync(join(ROOT, 'INSTALL.md'), 'utf8'));
    assert.ok(recorded, 'INSTALL.md records the score');
    assert.ok(Number(score[1]) <= Number(recorded[1]), `score ${score[1]} is worse than the recorded ${recorded[1]}`);
  });

  test('every directive stays compatible with Node (no MemoryDenyWriteExecute: it breaks V8\'s JIT)', () => {
    const unit = readFileSync(UNIT, 'utf8');
    assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=yes/m);
    for (const directive of ['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'ProtectKernelTunables=yes', 'ProtectControlGroups=yes', 'RestrictAddressFamilies=', 'SystemCallFilter=', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID', 'EnvironmentFile=']) {
      assert.ok(unit.includes(directive), directive);
    }
  });
});

describe('deploy script', () => {
  test('shellcheck-clean', { skip: has('shellcheck') || inCi ? false : 'shellcheck is not installed' }, () => {
    const r = spawnSync('shellcheck', [DEPLOY], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout);
  });

  test('deploys new commits, keeps the old release when a build fails, rolls back when the new one does not answer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-deploy-'));
    try {
      const origin = join(dir, 'origin.git');
      const work = join(dir, 'work');
      const root = join(dir, 'root');
      const restarts = join(dir, 'restarts.log');
      const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', origin]);
      mkdirSync(work);
      git('init', '--quiet', '--initial-branch=main');
      git('remote', 'add', 'origin', origin);
      // A tiny project: npm ci needs no network, the fast lane passes or fails as told (the whole `npm test` always fails: deploy must not run it).
      const commit = (message: string, testExit: number, healthy: boolean): string => {
        writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'fake', version: '1.0.0', scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'built\', \'\')"', test: 'node -e "process.exit(1)"', 'test:fast': `node -e "process.exit(${testExit})"` } }));
        writeFileSync(join(work, 'package-lock.json'), JSON.stringify({ name: 'fake', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'fake', version: '1.0.0' } } }));
        if (healthy) writeFileSync(join(work, 'healthy'), '');
        else rmSync(join(work, 'healthy'), { force: true });
        git('add', '-A');
        git('commit', '--quiet', '--allow-empty', '-m', message);
        git('push', '--quiet', 'origin', 'main');
        return git('rev-parse', 'HEAD');
      };
      const deploy = (): { status: number | null; out: string } => {
        const r = spawnSync('bash', [DEPLOY], {
          encoding: 'utf8',
          timeout: 120_000,
          env: {
            ...process.env,
            WILDKAT_REPO: origin,
            WILDKAT_ROOT: root,
            WILDKAT_KEEP: '2',
            WILDKAT_RESTART_CMD: `echo restart >> ${restarts}`,
            WILDKAT_CHECK_CMD: `test -f ${root}/current/healthy`,
          },
        });
        return { status: r.status, out: r.stdout + r.stderr };
      };
      const current = (): string => readFileSync(join(readlinkSync(join(root, 'current')), '.deployed-commit'), 'utf8').trim();
      const restartCount = (): number => (existsSync(restarts) ? readFileSync(restarts, 'utf8').trim().split('\n').length : 0);

      const c1 = commit('first', 0, true);
      let r = deploy();
      assert.equal(r.status, 0, r.out);
      assert.equal(current(), c1);
      assert.ok(existsSync(join(root, 'current', 'built')), 'built in the release');
      assert.match(r.out, /npm ci[\s\S]*npm run build[\s\S]*npm run test:fast[\s\S]*switching current[\s\S]*restarting[\s\S]*checking[\s\S]*deployed/);
      assert.equal(restartCount(), 1);

      r = deploy();
      assert.equal(r.status, 0);
      assert.match(r.out, /already at/);
      assert.equal(restartCount(), 1, 'no restart when nothing changed');

      commit('broken tests', 1, true);
      r = deploy();
      assert.equal(r.status, 1);
      assert.match(r.out, /FAILED: npm run test:fast; removing .*the running release is unchanged/);
      assert.equal(current(), c1, 'never switched to a tree that failed its tests');
      assert.equal(restartCount(), 1);
      assert.equal(readdirSync(join(root, 'releases')).length, 1, 'the failed release was removed');

      commit('passes tests, does not answer', 0, false);
      r = deploy();
      assert.equal(r.status, 1);
      assert.match(r.out, /FAILED: the tracker did not answer an announce[\s\S]*rolling back to/);
      assert.equal(current(), c1, 'rolled back');
      assert.equal(restartCount(), 3, 'restarted into the new release, then back into the old');

      // Two at once: the second sees the lock and leaves.
      // Its own process group: killing it must also end the `sleep` that inherited the lock.
      const holder = spawn('flock', [join(root, '.deploy.lock'), 'sleep', '5'], { stdio: 'ignore', detached: true });
      try {
        waitForLock(join(root, '.deploy.lock'), true);
        r = deploy();
        assert.equal(r.status, 0);
        assert.match(r.out, /another deploy is running/);
      } finally {
        process.kill(-holder.pid!, 'SIGTERM');
      }
      waitForLock(join(root, '.deploy.lock'), false);

      const c4 = commit('fixed', 0, true);
      r = deploy();
      assert.equal(r.status, 0, r.out);
      assert.equal(current(), c4);
      assert.equal(readdirSync(join(root, 'releases')).length, 2, 'WILDKAT_KEEP=2 releases kept');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Spins (bounded) until the lock is held (`held`) or free. */
function waitForLock(file: string, held: boolean): void {
  for (let i = 0; i < 100; i++) {
    if ((spawnSync('flock', ['-n', file, 'true']).status !== 0) === held) return;
    spawnSync('sleep', ['0.05']);
  }
  throw new Error(held ? 'the lock holder never took the lock' : 'the lock was never released');
}

test('npm start builds only when a source changed since the last build, and says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-start-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'src'));
    copyFileSync(join(ROOT, 'bin', 'build-if-changed.mjs'), join(dir, 'bin', 'build-if-changed.mjs'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export {};\n');
    // A stand-in build: counts its runs and leaves the stamp the real build leaves.
    const build = "const fs=require('fs');fs.mkdirSync('dist',{recursive:true});fs.appendFileSync('builds','x');fs.writeFileSync('dist/.built','')";
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fake', version: '1.0.0', scripts: { build: `node -e "${build}"` } }));
    const start = (): string => execFileSync(process.execPath, [join(dir, 'bin', 'build-if-changed.mjs')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const builds = (): number => (existsSync(join(dir, 'builds')) ? readFileSync(join(dir, 'builds'), 'utf8').length : 0);
    assert.match(start(), /building \(first start/);
    assert.equal(builds(), 1);
    assert.match(start(), /dist\/ is up to date, starting/);
    assert.equal(builds(), 1, 'no build when nothing changed');
    const later = new Date(Date.now() + 5000);
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const changed = 1;\n');
    utimesSync(join(dir, 'src', 'a.ts'), later, later);
    assert.match(start(), /sources changed since the last build: building/);
    assert.equal(builds(), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The real package: `npm start` runs the check first, and the real build
  // leaves the stamp it compares with (npm test has just built).
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['prestart'], 'node bin/build-if-changed.mjs');
  assert.ok(existsSync(join(ROOT, 'dist', '.built')), 'npm run build writes dist/.built');
  assert.match(
    execFileSync(process.execPath, [join(ROOT, 'bin', 'build-if-changed.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 }),
    /dist\/ is up to date, starting/,
    'right after npm run build, a start does not build again',
  );
});

test('npm start: SIGTERM to npm stops the tracker (the script execs it, so the signal reaches it)', { timeout: 60_000 }, async () => {
  const port = await freePort('127.0.0.1');
  // The tracker's own log goes to a pipe (JSON); npm's to the same pipes.
  const child = spawn('npm', ['start', '--', '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const answers = async (): Promise<boolean> => (await httpGet(port, '/scrape').catch(() => null))?.status === 200;
  try {
    await waitFor(answers, 30_000, `the tracker started by npm start answering; got: ${out}`);
    child.kill('SIGTERM');
    await waitFor(() => out.includes('"msg":"stopped"'), 10_000, `the tracker logging "stopped"; got: ${out}`);
    await waitFor(async () => !(await answers()), 10_000, 'the port closed');
  } finally {
    child.kill('SIGKILL');
    // Had the signal not reached it, the tracker would outlive npm: stop it by the pid it logged.
    const pid = /"pid":(\d+)/.exec(out)?.[1];
    if (pid !== undefined) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  }
});

describe('npm package', () => {
  test('npm pack makes a tarball that installs globally and runs, and imports as a typed library', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-pack-'));
    try {
      const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      for (const f of files) assert.match(f, /^(dist\/|bin\/|systemd\/|deploy\/|README\.md$|INSTALL\.md$|package\.json$|LICENSE)/, f);
      assert.ok(files.includes('bin/wildkat-tracker') && files.includes('bin/wildkat-query'));
      assert.ok(files.includes('dist/stats/assets/index.html'));
      assert.ok(files.includes('LICENSE') && files.includes('dist/index.d.ts'), 'the licence and the type declarations are in the tarball');
      assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/')));
      const prefix = join(dir, 'prefix');
      execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], { stdio: 'ignore', timeout: 180_000 });
      const tracker = join(prefix, 'bin', 'wildkat-tracker');
      const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.equal(execFileSync(tracker, ['--version'], { encoding: 'utf8' }).trim(), version.version);
      assert.match(execFileSync(tracker, ['--help'], { encoding: 'utf8' }), /--http-port/);
      assert.equal(execFileSync(join(prefix, 'bin', 'wildkat-query'), ['--version'], { encoding: 'utf8' }).trim(), version.version);
      // As a library: a project whose node_modules holds the installed package.
      const project = join(dir, 'project');
      mkdirSync(join(project, 'node_modules'), { recursive: true });
      symlinkSync(join(prefix, 'lib', 'node_modules', 'wildkat'), join(project, 'node_modules', 'wildkat'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-wildkat', type: 'module', private: true }));
      writeFileSync(
        join(project, 'main.ts'),
        [
          "import { startTracker, ManualClock, type RunningTracker, type TrackerOptions } from 'wildkat';",
          "const options: Partial<TrackerOptions> = { httpPort: 0, udpPort: 0, webHttpPort: null, host: '127.0.0.1' };",
          '// @ts-expect-error a port is a number: the declarations are real types, not any',
          "const wrong: Partial<TrackerOptions> = { httpPort: 'eighty' };",
          'void wrong;',
          'const tracker: RunningTracker = await startTracker(options, { clock: new ManualClock() });',
          "console.log(JSON.stringify({ http: tracker.port('http'), udp: tracker.port('udp') }));",
          'await tracker.close();',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['main.ts'] }),
      );
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      // The same program run from plain JavaScript: the types stripped, the package imported by name.
      writeFileSync(
        join(project, 'main.mjs'),
        "import { startTracker } from 'wildkat';\nconst t = await startTracker({ httpPort: 0, udpPort: 0, webHttpPort: null, host: '127.0.0.1' });\nconsole.log(JSON.stringify({ http: t.port('http'), udp: t.port('udp') }));\nawait t.close();\n",
      );
      const ran = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8', timeout: 30_000 }).trim().split('\n').filter((l) => l.startsWith('{"http"')).pop()!) as { http: number; udp: number };
      assert.ok(ran.http > 0 && ran.udp > 0, 'started and stopped through the package entry');
      // A short start and stop.
      const port = await freePort('127.0.0.1');
      const child = spawn(tracker, ['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', '0', '--web-http-port', '0'], { stdio: 'ignore' });
      try {
        await waitFor(async () => (await httpGet(port, '/scrape').catch(() => null)) !== null, 10_000, 'the installed tracker');
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
