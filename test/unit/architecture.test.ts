/**
 * The layout's rules, checked on the source: the folder import graph has no
 * cycle (type imports count), protocol/ imports nothing of ours outside
 * itself, frontends never import stats or the wiring, and no file is over
 * 400 lines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'assets' ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string): string => relative(SRC, file).split('/')[0]!;

/** folder → folders it imports (every `from '…'` and `import('…')` of a relative path). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

test('the folder import graph has no cycle', () => {
  const graph = folderGraph();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (folder: string, path: string[]): void => {
    if (state.get(folder) === 'done') return;
    assert.notEqual(state.get(folder), 'visiting', `import cycle: ${[...path, folder].join(' → ')}`);
    state.set(folder, 'visiting');
    for (const next of graph.get(folder) ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of graph.keys()) visit(folder, []);
  assert.ok(graph.size >= 9, `folders: ${[...graph.keys()].join(', ')}`);
});

test('protocol/ is pure: it imports nothing of ours outside itself', () => {
  assert.deepEqual([...(folderGraph().get('protocol') ?? [])], []);
});

test('frontends and the service never import stats or the wiring; stats never imports frontends or the wiring', () => {
  const graph = folderGraph();
  for (const folder of ['frontend', 'service', 'store']) {
    const bad = [...(graph.get(folder) ?? [])].filter((to) => to === 'stats' || to === 'tracker' || to === 'cli');
    assert.deepEqual(bad, [], `${folder} imports ${bad.join(', ')}`);
  }
  const stats = [...(graph.get('stats') ?? [])].filter((to) => to === 'frontend' || to === 'tracker' || to === 'cli');
  assert.deepEqual(stats, []);
});

test('no source file is over 400 lines', () => {
  const long = sources(SRC)
    .map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.lines > 400);
  assert.deepEqual(long, []);
});
