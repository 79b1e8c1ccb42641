// A joined host's processes run on the credentials of its membership file; when a rotation
// (scripts/rotate-credentials.ts) writes new ones, each process stops so that its supervisor (npm start's launcher,
// systemd, compose) starts it again on them. The file is polled once a second (a rename over it, as writes are made,
// is seen as a change of its inode or mtime).
import { statSync, unwatchFile, watchFile } from 'node:fs';
import { membershipFile } from './membership.js';

export function onMembershipChange(dataDir: string, changed: () => void): () => void {
  const file = membershipFile(dataDir);
  const id = () => {
    try {
      const s = statSync(file);
      return `${s.ino}:${s.mtimeMs}`;
    } catch {
      return 'gone';
    }
  };
  const first = id();
  let fired = false;
  watchFile(file, { interval: 1000, persistent: false }, () => {
    if (fired || id() === first) return;
    fired = true;
    changed();
  });
  return () => unwatchFile(file);
}
