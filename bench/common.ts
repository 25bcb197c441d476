/** What the benchmark scripts share: `--name value` flags, and pinning a process to a CPU (taskset, when there). */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);

export function arg(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

export function flag(name: string): boolean {
  return args.includes(name);
}

const canPin = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

/** `cmd` to run on `cpu`: the command and its arguments for spawn. */
export function pin(cpu: number, cmd: string[]): [string, string[]] {
  const full = canPin ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
  return [full[0]!, full.slice(1)];
}
