// A real Prometheus (Debian's package) scraping the given targets every second, with its own data directory, for
// tests that query what it scraped with PromQL. Stopped (and its data removed) by stop().
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query; the result vector as [labels, value] pairs. */
  query: (promql: string) => Promise<{ metric: Record<string, string>; value: number }[]>;
  stop: () => Promise<void>;
}

export async function startPrometheus(jobs: Record<string, string[]>): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgcp-prometheus-'));
  const config = { global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: Object.entries(jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })) };
  await writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
  const port = await freePort();
  const proc = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('prometheus ready', async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    return (await fetch(`${url}/-/ready`).catch(() => null))?.ok;
  }, 30_000);
  return {
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = await res.json() as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
