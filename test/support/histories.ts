// Saves the workflow history of a finished task for the replay tier (test/replay/replay.test.ts), as
// test/replay/histories/<workflow>-<scenario>.json in Temporal's JSON history format (as `temporal workflow show
// --output json` writes it). It writes only when PGCP_RECORD_HISTORIES=1, so ordinary e2e runs never rewrite the
// committed files; record again when a workflow's path changes on purpose.
//
// Why not @temporalio/common's historyToJSON / historyFromJSON: in this install they throw "type must be a Type".
// npm puts protobufjs 8 twice (under @temporalio/common and under @temporalio/proto, as grpc's protobufjs 7 is the
// hoisted one), and the JSON converter of one copy refuses the other copy's types. The same conversion is done here
// with the copy @temporalio/proto's types belong to, which works however npm lays the packages out.
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { projectRoot } from '../../platform/config.js';
import { decodeHistoryPayloads } from '../../platform/payload-codec.js';

export type History = proto.temporal.api.history.v1.IHistory;
export const historiesDir = path.join(projectRoot, 'test', 'replay', 'histories');

interface ProtoJson {
  toJson: (type: unknown, message: unknown) => unknown;
  fromJson: (type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }) => History;
}
const requireBesideProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { toJson, fromJson } = requireBesideProto('protobufjs/ext/protojson') as ProtoJson;
const { patchProtobufRoot } = requireBesideProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot: <T>(root: T) => T & { lookupType: (name: string) => unknown } };
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): string {
  return JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** A history as Worker.runReplayHistory takes it (unknown fields, e.g. from a newer server, are ignored). */
export function historyFromJSON(json: unknown): History {
  return fromJson(historyType, json, { ignoreUnknownFields: true });
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Writes the task's history when recording is on, its payloads decoded; returns the file written, if any. */
export async function recordHistory(client: Client, taskId: string, scenario: string): Promise<string | undefined> {
  if (process.env.PGCP_RECORD_HISTORIES !== '1') return undefined;
  const handle = client.workflow.getHandle(taskId);
  const { type, status } = await handle.describe();
  if (status.name === 'RUNNING') throw new Error(`task ${taskId} (${type}) is still running: only a finished task's history can be replayed whole`);
  const file = path.join(historiesDir, `${kebab(type)}-${scenario}.json`);
  await fs.mkdir(historiesDir, { recursive: true });
  // decoded with the client's codec: a recorded history replays on any machine, without that machine's key
  const history = await handle.fetchHistory();
  for (const codec of [...client.workflow.options.loadedDataConverter.payloadCodecs].reverse()) await decodeHistoryPayloads(codec, history.events ?? []);
  await fs.writeFile(file, `${historyToJSON(history)}\n`);
  return file;
}
