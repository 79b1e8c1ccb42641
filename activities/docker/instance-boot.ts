// Pure: how an instance container gets its secrets without any of them lying on the host. The container's secret
// files (Patroni's configuration with the internal passwords and the etcd and REST credentials, Patroni's pgpass,
// pgBackRest's configurations with the repositories' keys) live only on tmpfs mounts inside it (`secretDirs`:
// memory, never the host's disk, gone when the container stops). At every start the container waits (bootScript)
// until the host's agent has delivered them through `docker exec` with the files on stdin (deliveryScript: never in
// argv, environment or a Docker-stored file), then runs Patroni as postgres on the delivered configuration.
import { inContainer } from './instance-files.js';
import { deliveryScript as genericDeliveryScript, secretTmpfsOf, waitLines, type SecretMount } from './secret-delivery.js';

/** The tmpfs mounts holding the secret files (root-made, then the postgres user's, 0700). */
export const secretDirs = [inContainer.secretDir, inContainer.pgbackrestDir] as const;

/** Written last by a delivery: the container's Patroni may start. */
export const readyFile = `${inContainer.secretDir}/ready`;

export const instanceSecretMount: SecretMount = { dirs: secretDirs, ready: readyFile, owner: 'postgres' };

/** Docker's tmpfs options of the secret mounts (no size beyond what a few config files need). */
export function secretTmpfs(): Record<string, string> {
  return secretTmpfsOf(instanceSecretMount);
}

/**
 * The container's command (run by the image's entrypoint, which execs its arguments): wait for the delivery, make
 * the data directories the postgres user's, then Patroni as postgres on the delivered configuration.
 */
export function bootScript(): string {
  return [
    'set -eu',
    'export HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres',
    ...waitLines(instanceSecretMount, "this instance's configuration"),
    'for d in /var/lib/postgresql/data /var/run/postgresql; do mkdir -p "$d"; find "$d" \\! -user postgres -exec chown postgres:postgres {} +; done',
    `echo "pgcp-boot: patroni mode: ${inContainer.patroniConfig}" >&2`,
    `exec setpriv --reuid=postgres --regid=postgres --init-groups patroni ${inContainer.patroniConfig}`,
  ].join('\n');
}

export type { Delivery } from './secret-delivery.js';
/**
 * A one-off container's script (a restore's, on the instance's volume) that needs secret files: it waits, at most
 * `timeoutSeconds`, for their delivery (the same as an instance's, on the same tmpfs mounts), then runs `script`.
 */
export function afterDelivery(script: string, timeoutSeconds = 120): string {
  return [
    'n=0',
    `until [ -f ${readyFile} ]; do`,
    `  n=$((n + 1)); if [ $n -gt ${timeoutSeconds * 5} ]; then echo "pgcp: no configuration delivered" >&2; exit 3; fi`,
    '  sleep 0.2',
    'done',
    script,
  ].join('\n');
}

/**
 * Run as root with the Delivery as JSON on stdin (secret-delivery.ts): each changed file written through a fresh
 * temporary file, 0600 and the postgres user's; the removed ones unlinked; the ready marker last.
 */
export function deliveryScript(): string {
  return genericDeliveryScript(instanceSecretMount);
}
