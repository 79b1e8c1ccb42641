import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { loadConfig } from '../../platform/config.js';
import { keepJoin, membershipFile, membershipPki, readMembership, removeMembership, withMembership, writeMembership, type Membership } from '../../platform/membership.js';
import { storeHba } from '../../scripts/stack.js';
import { tokenHash, tokenMatches } from '../../store/cluster.js';
import { specWithoutHost } from '../../workflows/model/host-removal.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-membership-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const membership: Membership = {
  cluster_id: 'prod', host_id: 'host-2', joined_at: '2026-12-06T12:00:00.000Z',
  leader: { name: 'host-1', server_url: 'http://10.0.0.11:3000' },
  temporal: { address: '10.0.0.11:7233', namespace: 'pgcp' },
  store: { url: 'postgres://pgcp:secret@10.0.0.11:5432/pgcp' },
  etcd: { client_urls: ['http://10.0.0.11:2379'], container_hosts: ['10.0.0.11:2379'] },
  credentials: {},
};

describe('what a joined host keeps', () => {
  it('is written owner-only, read back whole, and replaces the configured services', () => {
    const dataDir = path.join(dir, 'data');
    expect(readMembership(dataDir)).toBeNull();
    writeMembership(dataDir, membership);
    expect(statSync(membershipFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readMembership(dataDir)).toEqual(membership);
    const config = withMembership(loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_JOINS_CLUSTER: 'true' }), membership);
    expect(config).toMatchObject({
      hostId: 'host-2', joinsCluster: true, storeUrl: membership.store.url, etcdUrl: 'http://10.0.0.11:2379',
      etcdHostsForContainers: ['10.0.0.11:2379'], temporal: { address: '10.0.0.11:7233', namespace: 'pgcp' },
    });
    removeMembership(dataDir);
    expect(readMembership(dataDir)).toBeNull();
  });

  it('is refused when a field is missing', () => {
    const dataDir = path.join(dir, 'partial');
    writeMembership(dataDir, { ...membership, etcd: { client_urls: [], container_hosts: [] } });
    expect(() => readMembership(dataDir)).toThrow(/client_urls/);
  });
});

describe('what a join hands over', () => {
  const key = randomBytes(32);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const joinedWith: Membership = {
    ...membership,
    temporal: { address: '10.0.0.11:7233', namespace: 'pgcp', tls: true, server_name: 'temporal.internal' },
    store: { url: 'postgres://pgcp_host_host_2_ab12cd34:pw@10.0.0.11:5432/pgcp?sslmode=verify-full&sslrootcert=%2Fissuer%2Fpki%2Fca.crt' },
    credentials: { username: 'pgcp-host-host-2-ab12cd34', password: 'etcd-pw', ca_cert: b64('CA PEM'), client_cert: b64('CERT PEM'), client_key: b64('KEY PEM'), secret_key: key.toString('base64') },
  };

  it('lands in 0600 files: the key where processes read it, the certificate and its key; the membership holds neither key', () => {
    const dataDir = path.join(dir, 'joined');
    const config = loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_JOINS_CLUSTER: 'true', PGCP_DATA_DIR: dataDir });
    keepJoin(config, joinedWith);
    const pki = membershipPki(dataDir);
    for (const f of [membershipFile(dataDir), config.secretKey.file, pki.ca, pki.cert, pki.key]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    expect(statSync(pki.dir).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(config.secretKey.file, 'utf8').trim(), 'base64')).toEqual(key);
    expect(readFileSync(pki.key, 'utf8')).toBe('KEY PEM');
    const kept = readMembership(dataDir)!;
    expect(kept.credentials).toEqual({ username: 'pgcp-host-host-2-ab12cd34', password: 'etcd-pw', ca_cert: b64('CA PEM'), client_cert: b64('CERT PEM') });
    expect(readFileSync(membershipFile(dataDir), 'utf8')).not.toContain(key.toString('base64'));

    // its own credentials replace the configured ones: etcd user, TLS to Temporal with its certificate, its CA for the store
    const c = withMembership(config, kept);
    expect(c.etcdCredentials).toEqual({ user: 'pgcp-host-host-2-ab12cd34', password: 'etcd-pw' });
    expect(c.temporal.tls).toEqual({ caCert: pki.ca, clientCert: pki.cert, clientKey: pki.key, serverName: 'temporal.internal' });
    expect(c.api.clientCert).toEqual({ cert: pki.cert, key: pki.key });
    expect(new URL(c.storeUrl).searchParams.get('sslrootcert')).toBe(pki.ca);
    expect(new URL(c.storeUrl).username).toBe('pgcp_host_host_2_ab12cd34');
    expect(c.joinServerUrls).toEqual(['http://10.0.0.11:3000']);
  });

  it('is refused when the operator configured another key', () => {
    const dataDir = path.join(dir, 'other-key');
    const config = loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_DATA_DIR: dataDir, PGCP_SECRET_KEY: randomBytes(32).toString('base64') });
    expect(() => keepJoin(config, joinedWith)).toThrow(/PGCP_SECRET_KEY is not the cluster's key/);
  });
});

describe('the join token and the store\'s rules', () => {
  it('the token matches by its hash only', () => {
    const token = `PGEDGE-${'a'.repeat(64)}-${'b'.repeat(32)}`;
    expect(tokenMatches(token, tokenHash(token))).toBe(true);
    expect(tokenMatches(`${token.slice(0, -1)}c`, tokenHash(token))).toBe(false);
    expect(tokenMatches(token, 'short')).toBe(false);
  });

  it('the store takes the password only (scram), and over TLS only when it speaks TLS', () => {
    const rules = (tls: boolean) => storeHba(tls).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rules(false)).toEqual(['host all all 127.0.0.1/32 scram-sha-256']);
    expect(rules(true)).toEqual(['hostssl all all 127.0.0.1/32 scram-sha-256', 'hostnossl all all 127.0.0.1/32 reject']);
    for (const tls of [false, true]) expect(rules(tls).join('\n')).not.toMatch(/\b(trust|md5|password|local)\b/);
  });
});

describe('specWithoutHost', () => {
  const spec: DatabaseSpec = {
    database_name: 'app', postgres_version: '15.20',
    nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'] }, { name: 'n3', host_ids: ['host-3'] }],
  };

  it('drops the host from every node and removes the nodes it was the only host of', () => {
    expect(specWithoutHost(spec, 'host-2')).toEqual({
      spec: { ...spec, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n3', host_ids: ['host-3'] }] },
      removedNodes: ['n2'],
      removedServices: [],
      changed: true,
    });
  });

  it('drops the host from every service and removes the services it was the only host of', () => {
    const svc = (service_id: string, host_ids: string[]) => ({ service_id, service_type: 'mcp' as const, version: 'latest', host_ids, connect_as: 'app' });
    const withServices: DatabaseSpec = { ...spec, nodes: [spec.nodes[0]!], services: [svc('both', ['host-1', 'host-2']), svc('only', ['host-2']), svc('other', ['host-3'])] };
    const r = specWithoutHost(withServices, 'host-2');
    expect(r.spec.services).toEqual([svc('both', ['host-1']), svc('other', ['host-3'])]);
    expect(r).toMatchObject({ removedServices: ['only'], changed: true });
    expect(specWithoutHost({ ...withServices, nodes: [{ name: 'n3', host_ids: ['host-3'] }], services: [svc('only', ['host-2'])] }, 'host-2').changed).toBe(true);
  });

  it('changes nothing for a database that does not name the host', () => {
    expect(specWithoutHost(spec, 'host-9')).toEqual({ spec, removedNodes: [], removedServices: [], changed: false });
  });
});
