/**
 * A list of the largest entries, largest first, at most `n` long, kept while
 * entries go by one at a time (the sweeper's pass, the browser swarms): no
 * sort of everything, and an entry that cannot fit is never built.
 */

/** Whether an entry of `peers` would enter `top`. */
export function fitsLargest(top: readonly { peers: number }[], n: number, peers: number): boolean {
  return top.length < n || top[n - 1]!.peers < peers;
}

/** Puts `entry` in its place (after any as large) and drops what falls past `n`; call when it fits. */
export function insertLargest<T extends { peers: number }>(top: T[], n: number, entry: T): void {
  let i = top.length;
  while (i > 0 && top[i - 1]!.peers < entry.peers) i--;
  top.splice(i, 0, entry);
  if (top.length > n) top.pop();
}
