// etcd of the test stack as the control plane reaches it: with its root credential (a 0600 file of the stack).
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { createEtcd, type Etcd } from '../../activities/etcd.js';

export function stackEtcd(): Etcd {
  const stack = inject('stack');
  return createEtcd(stack.etcdUrl, { user: 'root', password: readFileSync(stack.etcdPasswordFile, 'utf8').trim() }, readFileSync(stack.etcdCaFile, 'utf8'));
}
