/**
 * Picks the peers one announce hands out and writes them, in the
 * requester's compact form, into one reusable pair of buffers: no object or
 * string per peer. Rules (store contract): never the requester itself (nor
 * its record in the other address family: a dual-stack client); a
 * seeder gets leechers only; an IPv4 requester gets IPv4 peers only, an
 * IPv6 requester both (IPv4 ::ffff:-mapped). Each range (family × role)
 * gives its share in proportion to its size, from a cursor that moves on
 * each time, so successive announces see the whole swarm in turn. Peer
 * ids are copied only when the reply will carry them.
 */
import { PEER_ID_LENGTH, type PeerSet } from '../protocol/peers.js';
import type { PeerTable } from './swarm.js';
import type { TableView } from './table-view.js';

interface Range {
  table: PeerTable;
  seeders: boolean;
  /** Peers in the range, and how many of them may be handed out (the requester excluded). */
  size: number;
  available: number;
  take: number;
}

export class PeerPicker {
  private addrs = new Uint8Array(18 * 64);
  private ids = new Uint8Array(PEER_ID_LENGTH * 64);
  /** At most four ranges (2 families × 2 roles), reused: nothing allocated per announce. */
  private readonly pool: Range[] = [];
  private used = 0;
  private count = 0;
  private entrySize: 6 | 18 = 6;
  private self: PeerTable | null = null;
  private selfPos = -1;
  /** The requester's own record in the other family (same peer id), if any. */
  private twin: PeerTable | null = null;
  private twinPos = -1;

  private withIds = false;

  pick(swarm: TableView, self: PeerTable, selfPos: number, numwant: number, withIds: boolean, twin: PeerTable | null = null, twinPos = -1): PeerSet {
    this.withIds = withIds;
    const v6 = self.addrLen === 18;
    const seeder = self.isSeeder(selfPos);
    this.self = self;
    this.selfPos = selfPos;
    this.twin = twinPos >= 0 ? twin : null;
    this.twinPos = twinPos;
    this.entrySize = v6 ? 18 : 6;
    this.count = 0;
    this.used = 0;
    const tables = v6 ? [swarm.v6, swarm] : [swarm];
    let total = 0;
    for (const t of tables) {
      if (t === null) continue;
      total += this.addRange(t, false);
      if (!seeder) total += this.addRange(t, true);
    }
    const want = Math.min(numwant, total);
    if (want <= 0) return this.result();
    this.ensure(want);
    // Shares in proportion to each range's size, then what rounding left, in order.
    let given = 0;
    for (let i = 0; i < this.used; i++) {
      const r = this.pool[i]!;
      r.take = Math.floor((want * r.available) / total);
      given += r.take;
    }
    for (let i = 0; i < this.used && given < want; i++) {
      const r = this.pool[i]!;
      const more = Math.min(r.available - r.take, want - given);
      r.take += more;
      given += more;
    }
    for (let i = 0; i < this.used; i++) if (this.pool[i]!.take > 0) this.copy(this.pool[i]!);
    return this.result();
  }

  private addRange(table: PeerTable, seeders: boolean): number {
    const size = seeders ? table.nS : table.nL;
    if (size === 0) return 0;
    const available = size - (this.skipIn(table, seeders) >= 0 ? 1 : 0);
    if (available <= 0) return available;
    const r = (this.pool[this.used++] ??= { table, seeders, size, available, take: 0 });
    r.table = table;
    r.seeders = seeders;
    r.size = size;
    r.available = available;
    r.take = 0;
    return available;
  }

  /** Position (in the table) of the record a range must leave out: the requester, or its other-family twin; -1: none. */
  private skipIn(table: PeerTable, seeders: boolean): number {
    if (table === this.self && table.isSeeder(this.selfPos) === seeders) return this.selfPos;
    if (table === this.twin && table.isSeeder(this.twinPos) === seeders) return this.twinPos;
    return -1;
  }

  private ensure(want: number): void {
    if (this.addrs.length < want * 18) {
      this.addrs = new Uint8Array(want * 18);
      this.ids = new Uint8Array(want * PEER_ID_LENGTH);
    }
  }

  /** Copies `r.take` peers of the range from its cursor on, skipping the requester: in runs of consecutive positions. */
  private copy(r: Range): void {
    const t = r.table;
    const first = r.seeders ? t.cap - t.nS : 0;
    let cursor = (r.seeders ? t.cursorS : t.cursorL) % r.size;
    const skip = this.skipIn(t, r.seeders);
    const selfOffset = skip >= 0 ? skip - first : -1;
    let left = r.take;
    while (left > 0) {
      if (cursor === selfOffset) {
        cursor = cursor + 1 === r.size ? 0 : cursor + 1;
        continue;
      }
      // The run: up to the range's end, the requester, or what is still wanted.
      let run = Math.min(left, r.size - cursor);
      if (selfOffset > cursor && selfOffset < cursor + run) run = selfOffset - cursor;
      this.copyRun(t, first + cursor, run);
      left -= run;
      cursor += run;
      if (cursor === r.size) cursor = 0;
    }
    if (r.seeders) t.cursorS = cursor;
    else t.cursorL = cursor;
  }

  /** `n` peers at positions [p, p + n) of the table, appended to the output. */
  private copyRun(t: PeerTable, p: number, n: number): void {
    const c = t.chunk;
    const from = t.addrAt(p);
    if (this.entrySize === t.addrLen) {
      this.addrs.set(c.subarray(from, from + n * t.addrLen), this.count * this.entrySize);
    } else {
      // IPv4 peers for an IPv6 client: each ::ffff:-mapped.
      for (let k = 0; k < n; k++) {
        const a = (this.count + k) * 18;
        this.addrs.fill(0, a, a + 10);
        this.addrs[a + 10] = 0xff;
        this.addrs[a + 11] = 0xff;
        for (let i = 0; i < 6; i++) this.addrs[a + 12 + i] = c[from + k * 6 + i]!;
      }
    }
    if (this.withIds) {
      const ids = t.idAt(p);
      this.ids.set(c.subarray(ids, ids + n * PEER_ID_LENGTH), this.count * PEER_ID_LENGTH);
    }
    this.count += n;
  }

  private result(): PeerSet {
    return { count: this.count, entrySize: this.entrySize, addrs: this.addrs, ids: this.ids };
  }
}
