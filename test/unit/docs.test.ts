/** README.md and INSTALL.md: every Markdown table renders as a table (no row cut off by a blank line, no row with a stray column). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

/** Cells of a table row: `|` outside backticks, and not escaped, separates them. */
function cells(row: string): number {
  let n = 0;
  let code = false;
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (c === '`') code = !code;
    else if (c === '|' && !code && row[i - 1] !== '\\') n++;
  }
  return n - 1;
}

for (const file of ['README.md', 'INSTALL.md']) {
  test(`${file}: every table row belongs to a table and has the header's columns`, () => {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let fence = false;
    let columns = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith('```')) fence = !fence;
      if (fence) continue;
      const isRow = line.trimStart().startsWith('|');
      if (!isRow) {
        columns = 0;
        continue;
      }
      if (columns === 0) {
        // A table starts: a header, then its |---| line.
        assert.match(lines[i + 1] ?? '', /^\|[\s:|-]+\|\s*$/, `${file}:${i + 1}: a row outside a table (a blank line cuts the table above?): ${line}`);
        columns = cells(line);
        continue;
      }
      assert.equal(cells(line), columns, `${file}:${i + 1}: ${cells(line)} columns, the header has ${columns}: ${line}`);
    }
  });
}
