// The e2e files' port picker: a block with a held port is never returned, and blocks stay below the ephemeral range.
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { freePorts } from '../support/ports.js';

const held: net.Server[] = [];
afterAll(async () => { await Promise.all(held.map((s) => new Promise((r) => s.close(r)))); });

async function hold(port: number, host: string): Promise<void> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, host, () => resolve()); });
  held.push(s);
}

it('skips a block in which any port is held, on any address', async () => {
  const from = await freePorts(6, 29_000, 29_600);
  await hold(from + 2, '127.0.0.2'); // the first block of three is taken on one host address only
  for (let i = 0; i < 20; i++) expect(await freePorts(3, from, from + 6)).toBe(from + 3);
});

it('chooses below 32768 by default', async () => {
  for (let i = 0; i < 20; i++) {
    const base = await freePorts(10);
    expect(base).toBeGreaterThanOrEqual(20_000);
    expect(base + 10).toBeLessThanOrEqual(32_000);
  }
});

it('says so when no block is free', async () => {
  const from = await freePorts(2, 29_600, 30_000);
  await hold(from, '127.0.0.1');
  await expect(freePorts(2, from, from + 2)).rejects.toThrow(/no 2 consecutive free ports/);
});
