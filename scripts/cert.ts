// `npm run cert -- <command>`: the cluster CA and the certificates it signs (platform/pki.ts), in PGCP_PKI_DIR
// (default .data/pki). Keys are 0600 in a 0700 directory.
//   ca                                    make the CA once (ca.crt, ca.key); kept if it exists
//   server <name> [--host H]...           a server certificate for H (default localhost, 127.0.0.1, ::1)
//   client <name>                         a client certificate (CN = name): for curl, the SDK, the CLI
//   peer <name> [--host H]...             both (a server that is also a client of its peers: Temporal's nodes)
// Re-issuing a name replaces its key and certificate; the CA stays, so the others stay valid.
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config.js';
import { describeCertificate, ensureCa, issueCertificate } from '../platform/pki.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { host: { type: 'string', multiple: true }, dir: { type: 'string' }, days: { type: 'string' } },
});
const dir = values.dir ?? loadConfig().pkiDir;
const [command, name] = positionals;
const usage = 'usage: npm run cert -- ca | server <name> [--host H]... | client <name> | peer <name> [--host H]...   [--dir DIR] [--days N]';

function show(files: { cert: string; key: string }) {
  const d = describeCertificate(files.cert);
  console.log(`certificate  ${files.cert}\nkey          ${files.key} (0600)\nsubject      ${d.subject}\nissuer       ${d.issuer}${d.san ? `\nnames        ${d.san}` : ''}\nvalid until  ${d.validTo}`);
}

try {
  if (command === 'ca' && !name) {
    const ca = ensureCa(dir);
    console.log(ca.created ? 'CA created' : 'CA exists (kept)');
    show(ca);
  } else if ((command === 'server' || command === 'client' || command === 'peer') && name) {
    const ca = ensureCa(dir);
    if (ca.created) console.log(`CA created: ${ca.cert}`);
    show(issueCertificate(dir, { kind: command, name, hosts: values.host, ...(values.days ? { days: Number(values.days) } : {}) }));
  } else {
    console.error(usage);
    process.exit(2);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
