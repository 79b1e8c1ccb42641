// How a container gets its secret files without any of them lying on the host (issue 15), for instances and service
// instances alike: the files live only on tmpfs mounts inside the container (memory, never the host's disk, gone
// when it stops). At every start the container waits (waitLines) until the host's agent has delivered them through
// `docker exec` with the files on stdin (deliveryScript: never in argv, environment or a Docker-stored file), then
// runs its program on them. The script is pure; deliverFiles runs it.
import type Docker from 'dockerode';
import { execIn } from './exec.js';

/** A container's secret mounts: the tmpfs directories, the marker written last, the user the files belong to. */
export interface SecretMount { dirs: readonly string[]; ready: string; owner: string }

/** What one delivery writes (path → content, each under a secret dir) and removes. */
export interface Delivery { files: Record<string, string>; remove: string[] }

/** Docker's tmpfs options of the secret mounts (no size beyond what a few config files need). */
export function secretTmpfsOf(m: SecretMount): Record<string, string> {
  return Object.fromEntries(m.dirs.map((d) => [d, 'rw,nosuid,nodev,noexec,size=4m,mode=0700']));
}

/** Whether a container keeps these secret files in memory (an earlier version's mounted them from the host). */
export function hasTmpfsFor(info: Docker.ContainerInspectInfo, m: SecretMount): boolean {
  const tmpfs = info.HostConfig.Tmpfs ?? {};
  return m.dirs.every((d) => d in tmpfs);
}

/** Shell lines that wait for the delivery's ready marker, saying so now and then on stderr. */
export function waitLines(m: SecretMount, what: string): string[] {
  return [
    'n=0',
    `until [ -f ${m.ready} ]; do`,
    `  if [ $((n % 150)) -eq 0 ]; then echo "pgcp-boot: waiting for the control plane to deliver ${what}" >&2; fi`,
    '  n=$((n + 1)); sleep 0.2',
    'done',
  ];
}

/**
 * Run as root with the Delivery as JSON on stdin: each changed file written through a fresh temporary file (no link
 * followed: the owner owns the directories) and renamed into place, 0600 and the owner's; the removed ones unlinked;
 * the ready marker last. With `onlyIfReady` in the JSON, a container still waiting gets nothing (a partial delivery
 * must not let it start). Prints {changed, wasReady}.
 */
export function deliveryScript(m: SecretMount): string {
  return `
import json, os, pwd, sys
pw = pwd.getpwnam(${JSON.stringify(m.owner)})
dirs = ${JSON.stringify(m.dirs)}
d = json.load(sys.stdin)
ready = ${JSON.stringify(m.ready)}
was = os.path.exists(ready)
if d.get('onlyIfReady') and not was:
    print(json.dumps({'changed': [], 'wasReady': False}))
    raise SystemExit(0)
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
if not was:
    os.close(os.open(ready, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chown(ready, pw.pw_uid, pw.pw_gid)
print(json.dumps({'changed': changed, 'wasReady': was}))
`.trim();
}

export interface DeliveryResult { changed: string[]; wasReady: boolean }

/** The files delivered into the running container (python3 in it, as root); `what` names it in errors. */
export async function deliverFiles(docker: Docker, container: string, m: SecretMount, delivery: Delivery, o: { what: string; onlyIfReady?: boolean }): Promise<DeliveryResult> {
  const stdin = JSON.stringify({ ...delivery, ...(o.onlyIfReady ? { onlyIfReady: true } : {}) });
  const run = await execIn(docker, container, ['python3', '-c', deliveryScript(m)], { user: 'root', stdin });
  const result = run.exitCode === 0 ? parseResult(run.lines) : null;
  if (!result) throw new Error(`delivering ${o.what}'s configuration failed (exit ${run.exitCode}): ${run.lines.slice(-3).join(' | ')}`);
  return result;
}

/** Whether the running container has its delivery (its ready marker), asked as root. */
export async function isDelivered(docker: Docker, container: string, m: SecretMount): Promise<boolean> {
  const probe = await execIn(docker, container, ['sh', '-c', `test -f ${m.ready} && echo ready; true`], { user: 'root' });
  if (probe.exitCode !== 0) throw new Error(`${container}: cannot look into its container: ${probe.lines.slice(-2).join(' | ')}`);
  return probe.lines.includes('ready');
}

function parseResult(lines: string[]): DeliveryResult | null {
  const last = lines.filter((l) => l.startsWith('{')).pop();
  if (!last) return null;
  const r = JSON.parse(last) as { changed?: unknown; wasReady?: unknown };
  return Array.isArray(r.changed) && typeof r.wasReady === 'boolean' ? { changed: r.changed as string[], wasReady: r.wasReady } : null;
}
