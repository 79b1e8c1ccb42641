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

/** The value of one key, or null when it does not exist. */
export async function getValue(etcdUrl: string, key: string): Promise<string | null> {
  const res = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(key) }), signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`etcd range ${key}: HTTP ${res.status}`);
  const kv = ((await res.json()) as { kvs?: { value?: string }[] }).kvs?.[0];
  return kv ? Buffer.from(kv.value ?? '', 'base64').toString('utf8') : null;
}

/**
 * Deletes `key` only while it still holds `value` (one etcd transaction: compare, then delete): true when this call
 * deleted it, false when the key was gone or held something else.
 */
export async function deleteIfValue(etcdUrl: string, key: string, value: string): Promise<boolean> {
  const res = await fetch(`${etcdUrl}/v3/kv/txn`, {
    method: 'POST',
    body: JSON.stringify({
      compare: [{ key: b64(key), result: 'EQUAL', target: 'VALUE', value: b64(value) }],
      success: [{ request_delete_range: { key: b64(key) } }],
    }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`etcd txn on ${key}: HTTP ${res.status}`);
  const body = (await res.json()) as { succeeded?: boolean; responses?: { response_delete_range?: { deleted?: string } }[] };
  return body.succeeded === true && Number(body.responses?.[0]?.response_delete_range?.deleted ?? 0) > 0;
}
