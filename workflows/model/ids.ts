// Every name of a Docker or Postgres object the control plane makes. Pure JS (sha1 from @noble/hashes), so the
// planner can use it inside the workflow sandbox.
import { sha1 } from '@noble/hashes/legacy.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** First 8 chars of base36(sha1(hostId)), as the reference: host-1 → 689qacsi. */
export function hostHash(hostId: string): string {
  const digest = sha1(utf8ToBytes(hostId));
  let n = 0n;
  for (const b of digest) n = (n << 8n) | BigInt(b);
  return n.toString(36).slice(0, 8);
}

export const ids = {
  instance: (databaseId: string, nodeName: string, hostId: string) => `${databaseId}-${nodeName}-${hostHash(hostId)}`,
  volume: (instanceId: string) => `${instanceId}-data`,
  network: (databaseId: string) => `pgcp-${databaseId}`,
  /** Patroni cluster of one node; `--` cannot occur in a database id, so this never collides. */
  patroniScope: (databaseId: string, nodeName: string) => `${databaseId}--${nodeName}`,
  /** Subscription on `subscriber` receiving from `provider`: `sub_n1n3` lives on n1 and reads n3. */
  subscription: (subscriber: string, provider: string) => `sub_${subscriber}${provider}`,
} as const;

/** Digits of `nN`, the node ordinal. */
export function nodeOrdinal(nodeName: string): number {
  const m = /(\d+)/.exec(nodeName);
  return m ? Number(m[1]) : 0;
}
