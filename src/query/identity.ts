/** Who the query tool says it is: qBittorrent 5.1.4 by default, or a random qBittorrent. */
import { randomBytes, randomInt } from 'node:crypto';

export interface ClientIdentity {
  userAgent: string;
  /** Raw 20-byte peer_id, latin1. */
  peerId: string;
  version: string;
}

/** qBittorrent releases whose peer_id prefixes trackers know. */
export const QBITTORRENT_VERSIONS: readonly string[] = [
  '4.3.9', '4.4.5', '4.5.5', '4.6.7', '5.0.0', '5.0.1', '5.0.2', '5.0.3', '5.0.4', '5.0.5', '5.1.0', '5.1.1', '5.1.2', '5.1.3', '5.1.4',
];

export const DEFAULT_VERSION = '5.1.4';

/** qBittorrent's peer_id: "-qB" + major, minor, patch digits + "0-" + 12 random bytes. */
export function qbittorrent(version: string): ClientIdentity {
  const digits = version.split('.').map((p) => (Number(p) < 10 ? p : String.fromCharCode(55 + Number(p))));
  const prefix = `-qB${digits.join('')}0-`;
  return { userAgent: `qBittorrent/${version}`, peerId: prefix + randomBytes(12).toString('latin1'), version };
}

export function randomQbittorrent(): ClientIdentity {
  return qbittorrent(QBITTORRENT_VERSIONS[randomInt(QBITTORRENT_VERSIONS.length)]!);
}
