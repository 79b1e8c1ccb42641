import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createCodecApp } from '../../platform/codec-server.js';
import { decodeHistoryPayloads, EncryptionCodec } from '../../platform/payload-codec.js';
import { createSecretBox } from '../../platform/secret-box.js';
import { loadSecretKey, parseSecretKey, readOrCreateKeyFile } from '../../platform/secret-key.js';

const key = Buffer.alloc(32, 7);
const other = Buffer.alloc(32, 8);

describe('the secret key', () => {
  it('is generated once, 0600, and read back the same by every process', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-key-'));
    const file = path.join(dir, 'sub', 'secret.key');
    const a = readOrCreateKeyFile(file);
    expect(a).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readOrCreateKeyFile(file).equals(a)).toBe(true);
    expect(loadSecretKey({ key: undefined, file }).equals(a)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.toString('base64'));
  });

  it('given by the operator wins over the file; a key of the wrong size is refused without echoing it', () => {
    expect(loadSecretKey({ key: key.toString('base64'), file: '/nonexistent/k' }).equals(key)).toBe(true);
    expect(loadSecretKey({ key: key.toString('hex'), file: '/nonexistent/k' }).equals(key)).toBe(true);
    expect(() => parseSecretKey('c2hvcnQ=', 'PGCP_SECRET_KEY')).toThrow(/PGCP_SECRET_KEY: the secret key must be 32 bytes/);
    expect(() => parseSecretKey('c2hvcnQ=', 'PGCP_SECRET_KEY')).not.toThrow(/c2hvcnQ/);
  });
});

describe('the store\'s secret box (AES-256-GCM)', () => {
  const box = createSecretBox(key);
  const secrets = { superuserPassword: 'canary-superuser', replicationPassword: 'canary-repl', more: { nested: ['canary-x'] } };

  it('seals a whole value, every field in it, and opens it again', () => {
    const sealed = box.seal(secrets, 'databases.secrets:a');
    expect(JSON.stringify(sealed)).not.toMatch(/canary/);
    expect(box.open(sealed, 'databases.secrets:a')).toEqual(secrets);
  });

  it('refuses a value moved to another row or column, altered, or sealed under another key', () => {
    const sealed = box.seal(secrets, 'databases.secrets:a');
    expect(() => box.open(sealed, 'databases.secrets:b')).toThrow(/does not open/);
    const data = Buffer.from(sealed.data, 'base64');
    data[0]! ^= 1;
    expect(() => box.open({ ...sealed, data: data.toString('base64') }, 'databases.secrets:a')).toThrow(/does not open/);
    expect(() => createSecretBox(other).open(sealed, 'databases.secrets:a')).toThrow(/sealed with key \w+, but this process holds key \w+/);
  });

  it('reads a row from before sealing as it is (the migration then seals it)', () => {
    expect(box.open(secrets, 'databases.secrets:a')).toEqual(secrets);
  });
});

describe('the payload codec', () => {
  const codec = new EncryptionCodec(key);
  const clear = defaultPayloadConverter.toPayload({ password: 'canary-payload' });

  it('encrypts a payload whole and decodes it back', async () => {
    const [enc] = await codec.encode([clear]);
    expect(Buffer.from(JSON.stringify(enc, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))).toString()).not.toContain('canary-payload');
    expect(new TextDecoder().decode(enc!.metadata!.encoding!)).toBe('binary/encrypted');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ password: 'canary-payload' });
  });

  it('lets clear payloads through (histories recorded before the codec) and refuses another key', async () => {
    expect(await codec.decode([clear])).toEqual([clear]);
    const [enc] = await codec.encode([clear]);
    await expect(new EncryptionCodec(other).decode([enc!])).rejects.toThrow(/encrypted with key/);
  });

  it('decodes every payload of a fetched history in place', async () => {
    const [enc] = await codec.encode([clear]);
    const events = [{ activityTaskScheduledEventAttributes: { input: { payloads: [enc] } } }, { memo: { fields: { error: enc } } }];
    await decodeHistoryPayloads(codec, events);
    expect(defaultPayloadConverter.fromPayload(events[0]!.activityTaskScheduledEventAttributes!.input.payloads[0]!)).toEqual({ password: 'canary-payload' });
    expect(defaultPayloadConverter.fromPayload(events[1]!.memo!.fields.error!)).toEqual({ password: 'canary-payload' });
  });

  it('serves /encode and /decode as the Temporal UI calls them, with CORS for the UI\'s origin only', async () => {
    const app = createCodecApp(codec, ['http://127.0.0.1:8233']);
    const json = (p: typeof clear) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') });
    const post = (op: string, body: unknown, origin = 'http://127.0.0.1:8233') =>
      app.request(`/${op}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin, 'X-Namespace': 'pgcp' }, body: JSON.stringify(body) });
    const encoded = await post('encode', { payloads: [json(clear)] });
    expect(encoded.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    const encBody = (await encoded.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(encBody.payloads[0]!.data, 'base64').toString('latin1')).not.toContain('canary-payload');
    const decoded = (await (await post('decode', encBody)).json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toBe('{"password":"canary-payload"}');
    expect((await post('decode', encBody, 'http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await app.request('/decode', { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:8233', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect((await post('decode', { nope: 1 })).status).toBe(400);
  });
});
