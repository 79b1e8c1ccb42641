// Host ports for a test's databases. They are taken below Linux's ephemeral range (`ip_local_port_range`, 32768–60999
// here): a port inside it can be the local end of any outgoing connection at that moment, and Docker's publish of it
// then fails with "address already in use" (crash-restore failed so once). Each block is also checked free, so a
// container another file left behind cannot take one either.
import net from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports, all free now, chosen at random in [from, to). */
export async function freePorts(count: number, from = 20_000, to = 32_000): Promise<number> {
  const blocks = Math.floor((to - from) / count);
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = from + Math.floor(Math.random() * blocks) * count;
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await isFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports in ${from}–${to}`);
}
