import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { mergeUpdate } from '../../api/spec-admission.js';
import { pgbackrestConfig, pgbackrestRestoreConfig, repositoryMounts, validateBackupOptions, validateRestoreConfig, type SpecIssue } from '../../workflows/model/backup.js';
import { caContainerPath, repositoryDirs, repositoryDockerMounts } from '../../workflows/model/backup-repository.js';
import { redactSecrets, redactSpec } from '../../workflows/model/redact.js';

const ca = { 'storage-ca-file': '/srv/ca/ca.pem' };
const s3 = { type: 's3' as const, s3_bucket: 'bkt', s3_endpoint: 'minio.local', s3_key: 'AKID', s3_key_secret: 'S3-SECRET', custom_options: { ...ca, 's3-uri-style': 'path', 'storage-port': '9000' } };
const gcs = { type: 'gcs' as const, gcs_bucket: 'gbkt', gcs_endpoint: 'gcs.local:4443', gcs_key: 'GCS-TOKEN', custom_options: ca };
const azure = { type: 'azure' as const, azure_account: 'acct', azure_container: 'ctr', azure_key: 'AZURE-KEY', custom_options: { 'repo-azure-uri-style': 'path' } };
const lines = (text: string) => text.split('\n');

describe('pgBackRest configuration of object-store repositories', () => {
  const conf = lines(pgbackrestConfig({ repositories: [s3, gcs, azure] }, 'db1', 'n1'));

  it('s3: bucket, region and endpoint, shared keys, the user options last', () => {
    expect(conf).toEqual(expect.arrayContaining([
      'repo1-type=s3', 'repo1-path=/databases/db1/n1', 'repo1-s3-bucket=bkt', 'repo1-s3-region=us-east-1', 'repo1-s3-endpoint=minio.local',
      'repo1-s3-key-type=shared', 'repo1-s3-key=AKID', 'repo1-s3-key-secret=S3-SECRET', 'repo1-s3-uri-style=path', 'repo1-storage-port=9000',
      'repo1-storage-ca-file=/etc/pgcp/ca/srv_2fca_2fca.pem', 'repo1-retention-full=7',
    ]));
  });

  it('gcs: a key is a token; azure: shared key, and a custom option replaces a default instead of repeating it', () => {
    expect(conf).toEqual(expect.arrayContaining(['repo2-type=gcs', 'repo2-gcs-bucket=gbkt', 'repo2-gcs-endpoint=gcs.local:4443', 'repo2-gcs-key-type=token', 'repo2-gcs-key=GCS-TOKEN']));
    expect(conf).toEqual(expect.arrayContaining(['repo3-type=azure', 'repo3-azure-account=acct', 'repo3-azure-container=ctr', 'repo3-azure-key-type=shared', 'repo3-azure-key=AZURE-KEY', 'repo3-azure-endpoint=blob.core.windows.net']));
    expect(conf.filter((l) => l.startsWith('repo3-azure-uri-style='))).toEqual(['repo3-azure-uri-style=path']);
  });

  it('the reference defaults: AWS endpoint of the region, instance credentials without keys', () => {
    const c = lines(pgbackrestConfig({ repositories: [{ type: 's3', s3_bucket: 'b', s3_region: 'eu-west-3' }, { type: 'gcs', gcs_bucket: 'g' }] }, 'db1', 'n2'));
    expect(c).toEqual(expect.arrayContaining(['repo1-s3-endpoint=s3.eu-west-3.amazonaws.com', 'repo1-s3-key-type=auto', 'repo2-gcs-endpoint=storage.googleapis.com', 'repo2-gcs-key-type=auto']));
    expect(c.some((l) => l.startsWith('repo1-s3-key='))).toBe(false);
  });

  it('a restore reads the source node\'s path, without retention', () => {
    const c = lines(pgbackrestRestoreConfig({ source_database_id: 'old', source_node_name: 'n3', source_database_name: 'app', repository: { ...s3, base_path: '/pg/' } }));
    expect(c).toEqual(expect.arrayContaining(['repo1-type=s3', 'repo1-path=/pg/databases/old/n3', 'repo1-s3-key-secret=S3-SECRET']));
    expect(c.some((l) => l.includes('retention'))).toBe(false);
  });

  it('instances mount their database\'s directory of a posix repository, never base_path, and a read-only copy directory of CA files', () => {
    expect(repositoryMounts({ repositories: [s3, gcs, { type: 'posix', base_path: '/backups' }] })).toEqual(['/backups', '/srv/ca/ca.pem']);
    expect(repositoryDockerMounts(repositoryDirs('db1', [s3, { type: 'posix', base_path: '/backups/' }]), '/data/instances/i1/ca')).toEqual([
      { Type: 'bind', Source: '/backups/databases/db1', Target: '/backups/databases/db1', ReadOnly: false },
      { Type: 'bind', Source: '/data/instances/i1/ca', Target: '/etc/pgcp/ca', ReadOnly: true },
    ]);
  });

  it('a restore from another database\'s backups mounts only the source node\'s leaf, read-only; from its own, its directory', () => {
    const repo = { type: 'posix' as const, base_path: '/backups' };
    expect(repositoryDirs('copy', [], { repository: repo, source_database_id: 'orig', source_node_name: 'n1' })).toEqual([{ dir: '/backups/databases/orig/n1', readOnly: true, own: false }]);
    expect(repositoryDirs('db1', [repo], { repository: repo, source_database_id: 'db1', source_node_name: 'n2' })).toEqual([{ dir: '/backups/databases/db1', readOnly: false, own: true }]);
  });

  it('CA copies get distinct names for distinct host paths', () => {
    expect(caContainerPath('/a/b_c.pem')).toBe('/etc/pgcp/ca/a_2fb_5fc.pem');
    expect(caContainerPath('/a_b/c.pem')).not.toBe(caContainerPath('/a/b_c.pem'));
  });

  it('with the database\'s passphrase every repository is encrypted (aes-256-cbc); a restore reads with the source\'s', () => {
    const c = lines(pgbackrestConfig({ repositories: [{ type: 'posix', base_path: '/b' }, s3] }, 'db1', 'n1', 'PASS'));
    expect(c).toEqual(expect.arrayContaining(['repo1-cipher-type=aes-256-cbc', 'repo1-cipher-pass=PASS', 'repo2-cipher-type=aes-256-cbc', 'repo2-cipher-pass=PASS']));
    expect(lines(pgbackrestConfig({ repositories: [{ type: 'posix', base_path: '/b' }] }, 'db1', 'n1')).some((l) => l.includes('cipher'))).toBe(false);
    const r = lines(pgbackrestRestoreConfig({ source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b' } }, 'OLD'));
    expect(r).toEqual(expect.arrayContaining(['repo1-cipher-type=aes-256-cbc', 'repo1-cipher-pass=OLD']));
  });
});

describe('repository secrets', () => {
  const spec: DatabaseSpec = { database_name: 'app', backup_config: { repositories: [s3, azure] }, nodes: [{ name: 'n1', host_ids: ['host-1'], backup_config: { repositories: [gcs] } }] };
  const restoredSpec: DatabaseSpec = { ...spec, restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: s3 } };

  it('are never in the spec as shown', () => {
    const shown = JSON.stringify(redactSpec(restoredSpec));
    for (const secret of ['AKID', 'S3-SECRET', 'GCS-TOKEN', 'AZURE-KEY']) expect(shown).not.toContain(secret);
    expect(shown).toContain('"s3_bucket":"bkt"');
  });

  it('an update that omits them keeps the stored ones of the same repository (azure_key included)', () => {
    const sent = JSON.parse(JSON.stringify(redactSpec(spec))) as DatabaseSpec;
    const r = mergeUpdate(spec, sent, 'db1');
    expect(r.issues).toEqual([]);
    expect(r.spec.backup_config).toEqual(spec.backup_config);
    expect(r.spec.nodes[0]!.backup_config).toEqual(spec.nodes[0]!.backup_config);
  });

  it('a database created from a backup takes its spec back as GET shows it, in any key order', () => {
    const shown = JSON.parse(JSON.stringify(redactSpec(restoredSpec))) as DatabaseSpec;
    const { source_node_name, ...rest } = shown.restore_config!;
    const reordered = { ...shown, restore_config: { ...rest, repository: { ...shown.restore_config!.repository }, source_node_name } };
    expect(mergeUpdate(restoredSpec, reordered, 'db1').issues).toEqual([]);
    const other = { ...shown, restore_config: { ...shown.restore_config!, source_node_name: 'n2' } };
    // another one is accepted (pgEdge: it is for nodes created from now on; this update adds none)
    const r = mergeUpdate(restoredSpec, other, 'db1');
    expect(r.issues).toEqual([]);
    expect(r.spec.restore_config!.source_node_name).toBe('n1'); // the creation's stays: the instances mount its repository
  });

  it('keys go only to the same destination: a repository with another storage-host does not get them', () => {
    const sent: DatabaseSpec = { ...spec, backup_config: { repositories: [{ ...s3, s3_key: undefined, s3_key_secret: undefined, custom_options: { ...s3.custom_options, 'storage-host': 'elsewhere.example' } }, azure] } };
    expect(mergeUpdate(spec, sent, 'db1').spec.backup_config!.repositories[0]!.s3_key).toBeUndefined();
  });

  it('a different repository does not inherit them; a new key replaces the stored one', () => {
    const sent: DatabaseSpec = { ...spec, backup_config: { repositories: [{ ...s3, s3_bucket: 'other', s3_key: undefined, s3_key_secret: undefined }, { ...azure, azure_key: 'NEW' }] } };
    const r = mergeUpdate(spec, sent, 'db1');
    expect(r.spec.backup_config!.repositories[0]!.s3_key_secret).toBeUndefined();
    expect(r.spec.backup_config!.repositories[1]!.azure_key).toBe('NEW');
  });

  it('pgBackRest option echoes lose their keys', () => {
    expect(redactSecrets('restore command begin 2.45: --repo1-s3-key=AKID --repo1-s3-key-secret=S3-SECRET --repo2-azure-key=AZURE-KEY --stanza=db'))
      .toBe('restore command begin 2.45: --repo1-s3-key=[redacted] --repo1-s3-key-secret=[redacted] --repo2-azure-key=[redacted] --stanza=db');
  });
});

describe('restoring from an object store', () => {
  const spec: DatabaseSpec = { database_name: 'app', backup_config: { repositories: [s3] }, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'], backup_config: { repositories: [{ type: 'posix', base_path: '/b' }] } }] };
  const restore = { source_database_id: 'db1', source_node_name: 'n1', source_database_name: 'app', repository: s3 };

  it('needs the repository\'s CA file mounted in the target node (from its backup_config)', () => {
    const ok: SpecIssue[] = [];
    validateRestoreConfig(restore, spec, ['n1'], ok, 'db1');
    expect(ok).toEqual([]);
    const bad: SpecIssue[] = [];
    validateRestoreConfig(restore, spec, ['n2'], bad, 'db1');
    expect(bad).toEqual([{ path: 'restore_config.repository.custom_options', message: expect.stringContaining('node n2 does not mount /srv/ca/ca.pem') }]);
  });
});

describe('backup_options repo', () => {
  const issues = (o: Record<string, string>) => { const out: SpecIssue[] = []; validateBackupOptions(o, 'backup_options', out); return out; };
  it('chooses one of the node\'s own repositories by number', () => {
    expect(issues({ repo: '2', 'start-fast': 'y' })).toEqual([]);
  });
  it('is refused when it is not a repository number, and repoN-* keys stay refused', () => {
    expect(issues({ repo: '/tmp/x' }).map((i) => i.path)).toEqual(['backup_options[repo]']);
    expect(issues({ repo: '0' }).map((i) => i.path)).toEqual(['backup_options[repo]']);
    expect(issues({ 'repo2-path': '/x' })[0]?.message).toContain('is not allowed');
  });
});
