// One-shot: etcd's authentication on, with the root user and the password of PGCP_ETCD_PASSWORD_FILE (a compose
// secret), for the production stack; `npm start` does the same in scripts/stack.ts. Idempotent: an etcd whose auth is
// already on with that password is left alone, one without auth (an earlier version's volume) gets it. Waits up to
// two minutes for etcd, then fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureEtcdAuth, EtcdError } from '../activities/etcd.js';
import { loadConfig } from '../platform/config.js';

const config = loadConfig();
const file = config.etcdPasswordFile;
if (!config.etcdCredentials || !file) throw new Error('PGCP_ETCD_PASSWORD_FILE names no readable file: etcd\'s root password is needed');
const deadline = Date.now() + 120_000;
for (;;) {
  try {
    console.log(`etcd authentication ${await ensureEtcdAuth(config.etcdUrl, config.etcdCredentials, file, config.etcdCa)} at ${config.etcdUrl}`);
    break;
  } catch (err) {
    if (err instanceof EtcdError || Date.now() > deadline) throw err;
    if (err instanceof Error && /root password/.test(err.message)) throw err;
    console.log(`waiting for etcd at ${config.etcdUrl}: ${err instanceof Error ? err.message : String(err)}`);
    await sleep(2000);
  }
}
