// Pure: the spec as anyone may see it — in API responses and in workflow histories — without its secrets.
import type { DatabaseSpec, RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { mapRepositories, withoutSecrets } from './backup-repository.js';
import { redactServices } from './services.js';

export function redactRestoreConfig(rc: RestoreConfigSpec): RestoreConfigSpec {
  return { ...rc, repository: withoutSecrets(rc.repository) };
}

type WithOpts = Pick<DatabaseSpec, 'orchestrator_opts'>;
/** pgEdge echoes `swarm.image` whenever `swarm` exists, as "" when unset (§5.8). */
function echoImage<T extends WithOpts>(o: T): T {
  const swarm = o.orchestrator_opts?.swarm;
  return swarm ? { ...o, orchestrator_opts: { ...o.orchestrator_opts, swarm: { ...swarm, image: swarm.image ?? '' } } } : o;
}

export function redactSpec(spec: DatabaseSpec): DatabaseSpec {
  // repository credentials are never echoed (pgEdge §5.5)
  const redacted = mapRepositories(spec, withoutSecrets);
  return {
    ...echoImage(redacted),
    nodes: redacted.nodes.map(echoImage),
    ...(spec.database_users
      ? { database_users: spec.database_users.map(({ password: _password, ...u }) => ({ ...u, db_owner: u.db_owner ?? false })) }
      : {}),
    // service config secrets (API keys, tokens, init_users) never (pgEdge §6.1)
    ...(spec.services ? { services: redactServices(spec.services) } : {}),
  };
}

/**
 * Whatever slipped into an error text or a tool's output as a DSN or option (libpq and pglogical quote DSNs;
 * pgBackRest echoes its options, with the repository's keys): never shown.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1[redacted]')
    .replace(/(--repo\d*-(?:s3-key|s3-key-secret|gcs-key|azure-key|s3-token)[= ])("[^"]*"|\S+)/gi, '$1[redacted]')
    // any other secret option (isSecretOption: …-pass, …-passphrase, …-password, …-secret, …-token, …-key)
    .replace(/(--(?:repo\d*-)?[a-z0-9-]*(?:pass|passphrase|password|secret|token|-key)[= ])("[^"]*"|\S+)/gi, '$1[redacted]');
}

/**
 * The given key values themselves, wherever a tool printed them: pgBackRest shows an object store's error answer,
 * and S3's names the access key. Values too short to be keys are left alone.
 */
export function redactValues(text: string, values: string[]): string {
  return values.filter((v) => v.length >= 4).reduce((t, v) => t.split(v).join('[redacted]'), redactSecrets(text));
}
