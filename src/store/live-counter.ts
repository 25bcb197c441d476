/**
 * Counts items by the second they were last seen, in a ring of TTL + 1
 * one-second slots, so that "how many are still live" is exact at any moment
 * even when the sweeper has not yet purged the expired ones. Updates are a
 * couple of array writes; no allocation.
 */
export class LiveCounter {
  private readonly slots: Int32Array;
  private readonly ttl: number;
  /** The newest second the ring has been advanced to. */
  private head = -1;

  constructor(ttl: number) {
    this.ttl = ttl;
    this.slots = new Int32Array(ttl + 1);
  }

  /** Clears slots that fall out of the window as time moves to `now`. */
  private advance(now: number): void {
    if (now <= this.head) return;
    if (this.head < 0 || now - this.head >= this.slots.length) {
      this.slots.fill(0);
    } else {
      for (let s = this.head + 1; s <= now; s++) this.slots[s % this.slots.length] = 0;
    }
    this.head = now;
  }

  /** An item last seen at `last` (usually `now`). */
  add(last: number, now: number): void {
    this.advance(now);
    if (last > this.head - this.slots.length) this.slots[last % this.slots.length]!++;
  }

  /** An item last seen at `last` is gone (removed, or seen again). */
  remove(last: number, now: number): void {
    this.advance(now);
    // Older than the window: its slot was already cleared.
    if (last > this.head - this.slots.length) this.slots[last % this.slots.length]!--;
  }

  /** Items seen within the TTL: last > now - ttl. */
  count(now: number): number {
    this.advance(now);
    let sum = 0;
    for (let i = 0; i < this.slots.length; i++) sum += this.slots[i]!;
    const expiredSlot = (((now - this.ttl) % this.slots.length) + this.slots.length) % this.slots.length;
    return sum - this.slots[expiredSlot]!;
  }
}
