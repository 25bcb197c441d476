/**
 * Strict bencode (BEP 3) over raw bytes.
 *
 * Why not the `bencode` package for this: it decodes dictionary keys as UTF-8
 * text (or hex when not valid UTF-8), encodes object keys as UTF-8 and sorts
 * Map keys by their string form. A scrape reply is keyed by raw 20-byte
 * info_hashes, so those would be corrupted or grow. Here dictionary keys are
 * latin1 strings: one char per byte, so bytes round-trip exactly and string
 * order is byte order. The package stays in the tests as an oracle.
 */
import { ProtocolError } from './errors.js';

export type BValue = number | Buffer | BValue[] | BDict;
/** Keys are raw bytes held as latin1 strings. */
export type BDict = Map<string, BValue>;

/** What `encode` accepts: strings are UTF-8 text; object keys must be ASCII. */
export type BEncodable =
  | number
  | string
  | Uint8Array
  | readonly BEncodable[]
  | ReadonlyMap<string, BEncodable>
  | { readonly [key: string]: BEncodable | undefined };

const MAX_DEPTH = 64;

function fail(message: string): never {
  throw new ProtocolError('bad_bencode', message);
}

function sortedEntries(value: ReadonlyMap<string, BEncodable> | { readonly [key: string]: BEncodable | undefined }): [string, BEncodable][] {
  const entries: [string, BEncodable][] = [];
  if (value instanceof Map) {
    for (const [k, v] of value as ReadonlyMap<string, BEncodable>) entries.push([k, v]);
  } else {
    for (const k of Object.keys(value)) {
      const v = (value as { readonly [key: string]: BEncodable | undefined })[k];
      if (v !== undefined) entries.push([k, v]);
    }
  }
  // latin1 keys: UTF-16 code unit order equals byte order.
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries;
}

function integerText(n: number): string {
  if (!Number.isInteger(n)) throw new TypeError(`bencode integers must be whole numbers, got ${n}`);
  return n.toFixed(0);
}

function encodeInto(value: BEncodable, out: Buffer[]): void {
  if (typeof value === 'number') {
    out.push(Buffer.from(`i${integerText(value)}e`, 'latin1'));
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    out.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
  } else if (value instanceof Uint8Array) {
    out.push(Buffer.from(`${value.length}:`, 'latin1'), Buffer.from(value.buffer, value.byteOffset, value.length));
  } else if (Array.isArray(value)) {
    out.push(Buffer.from('l'));
    for (const item of value as readonly BEncodable[]) encodeInto(item, out);
    out.push(Buffer.from('e'));
  } else {
    out.push(Buffer.from('d'));
    for (const [k, v] of sortedEntries(value as ReadonlyMap<string, BEncodable>)) {
      out.push(Buffer.from(`${k.length}:${k}`, 'latin1'));
      encodeInto(v, out);
    }
    out.push(Buffer.from('e'));
  }
}

/** Encodes a value; Map keys are raw bytes as latin1, object keys ASCII. */
export function encode(value: BEncodable): Buffer {
  const out: Buffer[] = [];
  encodeInto(value, out);
  return Buffer.concat(out);
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

class Decoder {
  pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  value(depth: number): BValue {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    const c = this.buf[this.pos];
    if (c === undefined) fail('unexpected end of data');
    if (c === 0x69 /* i */) return this.integer();
    if (c >= DIGIT_0 && c <= DIGIT_9) return this.bytes();
    if (c === 0x6c /* l */) {
      this.pos++;
      const list: BValue[] = [];
      while (this.peek() !== 0x65 /* e */) list.push(this.value(depth + 1));
      this.pos++;
      return list;
    }
    if (c === 0x64 /* d */) {
      this.pos++;
      const dict: BDict = new Map();
      while (this.peek() !== 0x65) {
        const c2 = this.peek();
        if (c2 < DIGIT_0 || c2 > DIGIT_9) fail(`dictionary key must be a string at byte ${this.pos}`);
        const key = this.bytes().toString('latin1');
        if (dict.has(key)) fail(`duplicate dictionary key at byte ${this.pos}`);
        dict.set(key, this.value(depth + 1));
      }
      this.pos++;
      return dict;
    }
    fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')} at byte ${this.pos}`);
  }

  private peek(): number {
    const c = this.buf[this.pos];
    if (c === undefined) fail('unexpected end of data');
    return c;
  }

  private integer(): number {
    const start = ++this.pos;
    const end = this.buf.indexOf(0x65, start);
    if (end < 0) fail('unterminated integer');
    const text = this.buf.toString('latin1', start, end);
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) fail(`malformed integer at byte ${start}`);
    this.pos = end + 1;
    return Number(text);
  }

  private bytes(): Buffer {
    const start = this.pos;
    const colon = this.buf.indexOf(0x3a, start);
    if (colon < 0 || colon - start > 16) fail(`malformed string length at byte ${start}`);
    const text = this.buf.toString('latin1', start, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(text)) fail(`malformed string length at byte ${start}`);
    const length = Number(text);
    const end = colon + 1 + length;
    if (end > this.buf.length) fail(`string at byte ${start} runs past the end`);
    this.pos = end;
    return this.buf.subarray(colon + 1, end);
  }
}

/** Decodes exactly one value filling the whole input; throws ProtocolError otherwise. */
export function decode(data: Uint8Array): BValue {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  const decoder = new Decoder(buf);
  const value = decoder.value(0);
  if (decoder.pos !== buf.length) fail(`trailing data at byte ${decoder.pos}`);
  return value;
}

/** A JSON-friendly view for logs: printable byte strings as text, others as hex. */
export function toLoggable(value: BValue): unknown {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value)) {
    return /^[\x20-\x7e]*$/.test(value.toString('latin1')) ? value.toString('latin1') : `hex:${value.toString('hex')}`;
  }
  if (Array.isArray(value)) return value.map(toLoggable);
  const out: Record<string, unknown> = {};
  for (const [k, v] of value) {
    out[/^[\x20-\x7e]*$/.test(k) ? k : `hex:${Buffer.from(k, 'latin1').toString('hex')}`] = toLoggable(v);
  }
  return out;
}

export function isDict(value: BValue | undefined): value is BDict {
  return value instanceof Map;
}
