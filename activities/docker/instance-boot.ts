// Pure: how an instance container gets its secrets without any of them lying on the host. The container's secret
// files (Patroni's configuration with the internal passwords and the etcd and REST credentials, Patroni's pgpass,
// pgBackRest's configurations with the repositories' keys) live only on tmpfs mounts inside it (`secretDirs`:
// memory, never the host's disk, gone when the container stops). At every start the container waits (bootScript)
// until the host's agent has delivered them through `docker exec` with the files on stdin (deliveryScript: never in
// argv, environment or a Docker-stored file), then runs Patroni as postgres on the delivered configuration.
import { inContainer } from './instance-files.js';

/** The tmpfs mounts holding the secret files (root-made, then the postgres user's, 0700). */
export const secretDirs = [inContainer.secretDir, inContainer.pgbackrestDir] as const;

/** Written last by a delivery: the container's Patroni may start. */
export const readyFile = `${inContainer.secretDir}/ready`;

/** Docker's tmpfs options of the secret mounts (no size beyond what a few config files need). */
export function secretTmpfs(): Record<string, string> {
  return Object.fromEntries(secretDirs.map((d) => [d, 'rw,nosuid,nodev,noexec,size=4m,mode=0700']));
}

/**
 * The container's command (run by the image's entrypoint, which execs its arguments): wait for the delivery, make
 * the data directories the postgres user's, then Patroni as postgres on the delivered configuration.
 */
export function bootScript(): string {
  return [
    'set -eu',
    'export HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres',
    'n=0',
    `until [ -f ${readyFile} ]; do`,
    '  if [ $((n % 150)) -eq 0 ]; then echo "pgcp-boot: waiting for the control plane to deliver this instance\'s configuration" >&2; fi',
    '  n=$((n + 1)); sleep 0.2',
    'done',
    'for d in /var/lib/postgresql/data /var/run/postgresql; do mkdir -p "$d"; find "$d" \\! -user postgres -exec chown postgres:postgres {} +; done',
    `echo "pgcp-boot: patroni mode: ${inContainer.patroniConfig}" >&2`,
    `exec setpriv --reuid=postgres --regid=postgres --init-groups patroni ${inContainer.patroniConfig}`,
  ].join('\n');
}

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

/** What one delivery writes (path → content, each under a secret dir) and removes. */
export interface Delivery { files: Record<string, string>; remove: string[] }

/**
 * Run as root with the Delivery as JSON on stdin: each changed file written through a fresh temporary file (no link
 * followed: the postgres user owns the directories) and renamed into place, 0600 and the postgres user's; the
 * removed ones unlinked; the ready marker last. Prints {changed, wasReady, restoredData}.
 */
export function deliveryScript(): string {
  return `
import json, os, pwd, sys
pw = pwd.getpwnam('postgres')
dirs = ${JSON.stringify(secretDirs)}
d = json.load(sys.stdin)
for x in dirs:
    os.chown(x, pw.pw_uid, pw.pw_gid)
    os.chmod(x, 0o700)
def inside(p):
    return os.path.dirname(p) in dirs and '..' not in p
changed = []
for path, text in sorted(d['files'].items()):
    if not inside(path): raise SystemExit('refusing ' + path)
    data = text.encode()
    try:
        with open(path, 'rb') as f:
            if f.read() == data: continue
    except FileNotFoundError:
        pass
    tmp = '%s.%d.tmp' % (path, os.getpid())
    try: os.unlink(tmp)
    except FileNotFoundError: pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.write(fd, data)
    os.fchown(fd, pw.pw_uid, pw.pw_gid)
    os.close(fd)
    os.replace(tmp, path)
    changed.append(path)
for path in d['remove']:
    if inside(path) and os.path.lexists(path):
        os.unlink(path)
        changed.append(path)
ready = ${JSON.stringify(readyFile)}
was = os.path.exists(ready)
if not was:
    os.close(os.open(ready, os.O_WRONLY | os.O_CREAT, 0o600))
print(json.dumps({'changed': changed, 'wasReady': was}))
`.trim();
}
