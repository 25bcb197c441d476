// `npm start` runs this first: build only when a source is newer than the
// last build (a build takes about 30 s on a small VPS), and say so when it does.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.built');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((p) => join(root, p)).filter((p) => existsSync(p));
const sourceTime = Math.max(...inputs.map(newest));
const builtTime = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (builtTime >= sourceTime) {
  process.stdout.write('wildkat: dist/ is up to date, starting\n');
} else {
  process.stdout.write(builtTime === 0 ? 'wildkat: building (first start; about 30 s)…\n' : 'wildkat: sources changed since the last build: building (about 30 s)…\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
