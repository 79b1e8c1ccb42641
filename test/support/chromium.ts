// Debian's chromium, headless, for pages the API serves: the DOM after scripts ran, and a screenshot. Every host
// but this machine's loopback resolves to nothing, so a page that needs the internet fails here as it would offline.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--virtual-time-budget=20000'];

export async function dumpDom(url: string, windowSize = '1400,2200'): Promise<string> {
  const { stdout } = await run('chromium', [...flags, `--window-size=${windowSize}`, '--dump-dom', url], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return stdout;
}

export async function screenshot(url: string, file: string, windowSize = '1400,2200'): Promise<void> {
  await run('chromium', [...flags, `--window-size=${windowSize}`, `--screenshot=${file}`, url], { timeout: 120_000 });
}
