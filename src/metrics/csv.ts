import { createWriteStream, type WriteStream } from 'node:fs';
import { stringify, type Stringifier } from 'csv-stringify';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';

type Cell = string | number | boolean | null | undefined;

/** Rounds times to µs so CSVs stay readable without losing the clock's useful precision. */
function cell(v: Cell): Cell {
  return typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;
}

/**
 * A CSV file written row by row as results become final, so an interrupted run keeps
 * everything measured up to that point. `close()` flushes and closes the file.
 */
export class CsvWriter<Row extends object> {
  private readonly stringifier: Stringifier;
  private readonly file: WriteStream;
  private readonly done: Promise<void>;
  private closed = false;
  rows = 0;

  constructor(
    readonly path: string,
    private readonly columns: (keyof Row & string)[],
  ) {
    this.file = createWriteStream(path);
    this.stringifier = stringify({ header: true, columns: columns as string[] });
    this.stringifier.pipe(this.file);
    this.done = new Promise((resolve, reject) => {
      this.file.on('close', () => resolve());
      this.file.on('error', reject);
    });
  }

  write(row: Row): void {
    if (this.closed) return;
    const rec: Record<string, Cell> = {};
    for (const c of this.columns) rec[c] = cell((row as Record<string, Cell>)[c]);
    this.stringifier.write(rec);
    this.rows++;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stringifier.end();
    }
    return this.done;
  }
}

/** Reads a CSV written by CsvWriter into objects of strings. */
export function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}
