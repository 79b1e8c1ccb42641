// Temporal payload codec: every workflow and activity payload (inputs, results, failures' details, memos, heartbeats)
// leaves the process encrypted with AES-256-GCM under a key derived from the control plane's secret key, so
// Temporal's database and anyone reading histories without the key see ciphertext. Every client and worker of the
// control plane uses it (platform/temporal.ts's dataConverter); the codec server (scripts/codec-server.ts) lets the
// Temporal UI show payloads to an operator who holds the key. Payloads that are not encrypted (histories recorded
// before the codec) decode unchanged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import protos from '@temporalio/proto';
import { deriveKey, keyId } from './secret-key.js';

const ProtoPayload = protos.temporal.api.common.v1.Payload;
export const encryptedEncoding = 'binary/encrypted';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly key: Buffer;
  readonly keyId: string;

  constructor(masterKey: Buffer) {
    this.key = deriveKey(masterKey, 'temporal payloads');
    this.keyId = keyId(this.key);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const data = Buffer.concat([iv, cipher.update(ProtoPayload.encode(p).finish()), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: encoder.encode(encryptedEncoding), 'encryption-key-id': encoder.encode(this.keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (!isEncrypted(p)) return p;
      const kid = p.metadata?.['encryption-key-id'];
      if (kid && decoder.decode(kid) !== this.keyId) throw new Error(`payload encrypted with key ${decoder.decode(kid)}, this process holds ${this.keyId}`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const clear = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return ProtoPayload.decode(clear) as Payload;
    });
  }
}

export function isEncrypted(p: Payload): boolean {
  const enc = p.metadata?.encoding;
  return enc !== undefined && enc !== null && decoder.decode(enc) === encryptedEncoding;
}

export function dataConverter(masterKey: Buffer): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(masterKey)] };
}

type Node = unknown;
const isPayload = (v: Node): v is Payload =>
  typeof v === 'object' && v !== null && 'metadata' in v && typeof (v as Payload).metadata === 'object' && (v as Payload).metadata !== null && 'encoding' in ((v as Payload).metadata as object);

/**
 * Decodes, in place, every encrypted payload found in a fetched history (its events as the client returns them: the
 * codec does not run on fetchHistory), so the task-log renderer reads them like clear ones.
 */
export async function decodeHistoryPayloads<T>(codec: PayloadCodec, events: T): Promise<T> {
  const visit = async (v: Node): Promise<void> => {
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item = v[i] as Node;
        if (isPayload(item) && isEncrypted(item)) v[i] = (await codec.decode([item]))[0];
        else await visit(item);
      }
      return;
    }
    for (const [k, item] of Object.entries(v as Record<string, Node>)) {
      if (isPayload(item) && isEncrypted(item)) (v as Record<string, Node>)[k] = (await codec.decode([item]))[0];
      else await visit(item);
    }
  };
  await visit(events);
  return events;
}
