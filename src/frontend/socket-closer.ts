/**
 * Closes sockets a batch per event-loop turn. Timeouts come in bursts (a
 * slowloris wave, thousands of stalled TLS handshakes expiring together):
 * closing 5,000 sockets in one callback stalls every other request for a
 * third of a second; a few hundred per turn lets replies through in between.
 */
import type { Duplex } from 'node:stream';

export const CLOSE_BATCH = 256;

interface Pending {
  socket: Duplex;
  /** Written before the end (an HTTP status line), or null to destroy. */
  last: string | null;
}

export class SocketCloser {
  private readonly batch: number;
  private queue: Pending[] = [];
  private head = 0;
  private scheduled = false;
  private readonly run = (): void => this.drainBatch();

  constructor(batch = CLOSE_BATCH) {
    this.batch = batch;
  }

  /** Destroys the socket soon (within a few turns). */
  destroy(socket: Duplex): void {
    this.push({ socket, last: null });
  }

  /** Writes `last` and ends the socket soon; destroys it if it can no longer be written. */
  end(socket: Duplex, last: string): void {
    this.push({ socket, last });
  }

  /** Sockets waiting to be closed. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  private push(p: Pending): void {
    this.queue.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private drainBatch(): void {
    const stop = Math.min(this.queue.length, this.head + this.batch);
    for (; this.head < stop; this.head++) {
      const { socket, last } = this.queue[this.head]!;
      if (socket.destroyed) continue;
      if (last === null || !socket.writable) socket.destroy();
      else socket.end(last);
    }
    if (this.head < this.queue.length) {
      setImmediate(this.run);
      return;
    }
    this.queue = [];
    this.head = 0;
    this.scheduled = false;
  }
}
