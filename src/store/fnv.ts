/**
 * FNV-1a over 20 bytes (a peer id or an info_hash), from a latin1 string or
 * from bytes in a buffer: the same value either way, so a key hashed on
 * arrival finds the copy stored in a table. `seed` keys the hash (0: none).
 */
const LENGTH = 20;

export function fnv20(key: string, seed = 0): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < LENGTH; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function fnv20At(bytes: Uint8Array, at: number, seed = 0): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < LENGTH; i++) h = Math.imul(h ^ bytes[at + i]!, 0x01000193);
  return h >>> 0;
}
