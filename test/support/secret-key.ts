// The tests' control-plane key: one file beside the test stack's data, shared by the in-process API and workers,
// worker child processes and the tests' own Temporal clients (payloads are encrypted with it).
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { projectRoot } from '../../platform/config.js';
import { dataConverter } from '../../platform/payload-codec.js';
import { createSecretBox, type SecretBox } from '../../platform/secret-box.js';
import { readOrCreateKeyFile } from '../../platform/secret-key.js';

export const testSecretKeyFile = path.join(projectRoot, '.data', 'test-stack', 'secret.key');

export function testSecretKey(): Buffer {
  return readOrCreateKeyFile(testSecretKeyFile);
}

export function testSecretBox(): SecretBox {
  return createSecretBox(testSecretKey());
}

/** A Temporal client on `namespace` with the control plane's payload codec. */
export async function testTemporalClient(address: string, namespace: string, o: ConstructorParameters<typeof Client>[0] = {}): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }), namespace, dataConverter: dataConverter(testSecretKey()), ...o });
}
