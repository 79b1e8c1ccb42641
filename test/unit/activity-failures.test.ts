import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FailureType, permanent, toFailure, withActivityErrors } from '../../activities/errors.js';

/** A Postgres error as pg parses it off the wire. */
const pgError = (code: string, message = `error ${code}`) => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code, severity: 'ERROR' });
/** A Docker Engine API error as docker-modem builds it. */
const dockerError = (statusCode: number, reason: string, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) ${reason} - ${message}`), { statusCode, reason, json: { message } });
const systemError = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.2:5432`), { code, errno: -111, syscall: 'connect' });

/** What an activity's caller sees: retried (plain error or retryable failure) or not, and the failure type. */
function outcome(err: unknown): { retried: boolean; type: string | null } {
  const out = toFailure(err);
  if (out instanceof ApplicationFailure) return { retried: !out.nonRetryable, type: out.type ?? null };
  return { retried: true, type: null };
}

describe('toFailure', () => {
  it.each([
    // Postgres: a server starting, shutting down or full, a connection lost: retried
    ['57P03 cannot_connect_now', pgError('57P03'), { retried: true, type: null }],
    ['57P01 admin_shutdown', pgError('57P01'), { retried: true, type: null }],
    ['53300 too_many_connections', pgError('53300'), { retried: true, type: null }],
    ['08006 connection_failure', pgError('08006'), { retried: true, type: null }],
    ['40001 serialization_failure', pgError('40001'), { retried: true, type: null }],
    ['55006 object_in_use', pgError('55006'), { retried: true, type: null }],
    // Postgres: SQL the server rejects, a missing object, credentials: never better on retry
    ['42601 syntax_error', pgError('42601'), { retried: false, type: FailureType.misconfigured }],
    ['42P01 undefined_table', pgError('42P01'), { retried: false, type: FailureType.misconfigured }],
    ['42704 undefined_object', pgError('42704'), { retried: false, type: FailureType.misconfigured }],
    ['42501 insufficient_privilege', pgError('42501'), { retried: false, type: FailureType.misconfigured }],
    ['28P01 invalid_password', pgError('28P01'), { retried: false, type: FailureType.misconfigured }],
    ['42P04 duplicate_database', pgError('42P04'), { retried: false, type: FailureType.conflict }],
    ['42710 duplicate_object', pgError('42710'), { retried: false, type: FailureType.conflict }],
    // Docker
    ['404 no such image', dockerError(404, 'no such container', 'No such image: pgcp/postgres:17-x'), { retried: false, type: FailureType.imageMissing }],
    ['404 no such container', dockerError(404, 'no such container', 'No such container: shop-n1-689qacsi'), { retried: false, type: FailureType.notFound }],
    ['409 name in use', dockerError(409, 'conflict', 'Conflict. The container name "/shop-n1" is already in use by container "3f2a"'), { retried: false, type: FailureType.conflict }],
    ['409 removal in progress', dockerError(409, 'conflict', 'removal of container shop-n1 is already in progress'), { retried: true, type: null }],
    ['409 container restarting', dockerError(409, 'conflict', 'Container 3f2a is restarting, wait until the container is running'), { retried: true, type: null }],
    ['500 port is already allocated', dockerError(500, 'server error', 'driver failed programming external connectivity: Bind for 127.0.0.1:5432 failed: port is already allocated'), { retried: false, type: FailureType.conflict }],
    ['500 other engine error', dockerError(500, 'server error', 'context deadline exceeded'), { retried: true, type: null }],
    // network and unknown errors: retried, as before
    ['ECONNREFUSED', systemError('ECONNREFUSED'), { retried: true, type: null }],
    ['a plain error', new Error('no member of node n1 answers'), { retried: true, type: null }],
    // decided by the thrower
    ['a typed refusal', permanent(FailureType.refused, 'instance x is not running'), { retried: false, type: FailureType.refused }],
    ['a retryable ApplicationFailure', ApplicationFailure.retryable('later', 'Busy'), { retried: true, type: 'Busy' }],
  ])('%s', (_name, err, expected) => {
    expect(outcome(err)).toEqual(expected);
  });

  it('keeps the message of a classified error', () => {
    const out = toFailure(pgError('42601', 'syntax error at or near "SELEC"'));
    expect((out as ApplicationFailure).message).toBe('syntax error at or near "SELEC"');
  });

  it('passes a cancellation through as it is', () => {
    const cancelled = new CancelledFailure('CANCELLED');
    expect(toFailure(cancelled)).toBe(cancelled);
  });
});

describe('withActivityErrors', () => {
  const activities = withActivityErrors({
    async failsWithSecret(): Promise<void> { throw pgError('28P01', "password authentication failed: dsn host='a' password='hunter2'"); },
    async failsTransiently(): Promise<void> { throw Object.assign(new Error("could not connect: password=hunter2"), { name: 'ConnectError' }); },
    async works(): Promise<number> { return 1; },
  });

  it('classifies and redacts what an activity throws', async () => {
    const err = await activities.failsWithSecret().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: FailureType.misconfigured, nonRetryable: true });
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('leaves a transient error retryable, with its name, without its secret', async () => {
    const err = await activities.failsTransiently().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ name: 'ConnectError', message: 'could not connect: password=[redacted]' });
  });

  it('returns what the activity returns', async () => {
    expect(await activities.works()).toBe(1);
  });
});
