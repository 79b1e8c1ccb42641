// etcd v3 through its JSON gateway: only what the control plane needs (Patroni's keys of a node).

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The key right after every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1]! += 1;
  return bytes.toString('utf8');
}

export async function deletePrefix(etcdUrl: string, prefix: string): Promise<number> {
  const res = await fetch(`${etcdUrl}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: b64(prefixEnd(prefix)) }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`etcd deleterange ${prefix}: HTTP ${res.status}`);
  const body = (await res.json()) as { deleted?: string };
  return Number(body.deleted ?? 0);
}

export async function countPrefix(etcdUrl: string, prefix: string): Promise<number> {
  const res = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: b64(prefixEnd(prefix)), count_only: true }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`etcd range ${prefix}: HTTP ${res.status}`);
  return Number(((await res.json()) as { count?: string }).count ?? 0);
}
