import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../platform/config.js';
import { rfc3339 } from './render/time.js';

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

/** Read once at start-up: package version, git revision and its commit time. */
export function readVersionInfo() {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  const time = git(['log', '-1', '--format=%cI']);
  return {
    version: `v${pkg.version}`,
    revision: git(['rev-parse', '--short=8', 'HEAD']) ?? 'unknown',
    revision_time: rfc3339(time ? new Date(time) : new Date(0)),
    arch: process.arch === 'x64' ? 'amd64' : process.arch,
  };
}
