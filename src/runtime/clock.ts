/** Whole seconds: the store keeps small integers, never Date.now() doubles. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
};

/** A clock that moves only when told: tests use it for TTL and interval logic. */
export class ManualClock implements Clock {
  private seconds: number;
  constructor(start = 1_000_000) {
    this.seconds = start;
  }
  now(): number {
    return this.seconds;
  }
  advance(seconds: number): void {
    this.seconds += seconds;
  }
}
