/** A WebSocket tracker client for tests: JSON frames in, a queue of frames out, bounded waits. */
import { WebSocket, type ClientOptions } from 'ws';
import { WAIT_MS } from './helpers.js';

export type Frame = Record<string, unknown>;

/** A browser peer's announce (a leecher that has just started), with `more` fields over it. */
export function wsAnnounce(hash: string, peer: string, more: Frame = {}): Frame {
  return { action: 'announce', info_hash: hash, peer_id: peer, uploaded: 0, downloaded: 0, left: 1000, event: 'started', numwant: 5, offers: [], ...more };
}

export class WsClient {
  readonly socket: WebSocket;
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static open(url: string, options: ClientOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: WAIT_MS, ...options });
      const client = new WsClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next frame (rejects after `ms`, or when the socket closes first). */
  async next(ms = WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.closed !== null) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) with no frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** True when no frame arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }

  /** Resolves with the close code (rejects after `ms`). */
  async whenClosed(ms = WAIT_MS): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.closed === null) {
      if (Date.now() > deadline) throw new Error(`still open after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed.code;
  }

  close(): void {
    this.socket.terminate();
  }
}
