// Instance containers: Patroni managing Postgres, one container + one volume per instance. Each activity is a short
// sequence of check-then-act steps, so it can be retried and re-run.
import { ids } from '../../workflows/model/ids.js';
import { activityNamespace } from '../activity-namespace.js';
import { findInstance, loadDatabase, type DatabaseContext, type InstanceKey } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { pollUntil } from '../heartbeats.js';
import { getPatroniStatus } from '../patroni/client.js';
import { nodeCluster } from '../patroni/node-cluster.js';
import { waitForSynchronousStandby } from '../patroni/synchronous.js';
import { connectInstance } from '../postgres/connect.js';
import { getInstance, listInstances } from '../../store/instances.js';
import { inspectContainerOrNull, labels, removeContainer } from './client.js';
import { ensureContainer } from './ensure-container.js';
import { instanceImage } from './images.js';
import { instanceHostFiles, type InstanceHostFiles } from './instance-files.js';
import { effectiveSwarm, pinnedImage } from '../../workflows/model/orchestrator-opts.js';
import { nodeVersion, type InstancePlan } from '../../workflows/model/instances.js';
import { joinExtraNetworks } from './network.js';
import { ensureInstanceFiles, removeInstanceFiles, removeLegacySecretFiles } from './instance-config.js';
import { databaseLabels, instanceOptions } from './instance-spec.js';
import { restartIfExited, startUnlessStopped } from './instance-start.js';
import { instanceAddress } from '../addresses.js';
import { ensureNetwork, removeNetwork } from './network.js';
import { ensureVolume, removeVolume } from './volume.js';

/** How long a node may have no leader while one of its instances waits before the task looks at its other members. */
const leaderlessAfterMs = 10_000;

/** A wait for an instance cut short: its node has no leader; its other members, to be started where they exited. */
export interface Leaderless { leaderless: true; others: { instanceId: string; hostId: string }[]; lines: string[] }

/** How long a replica's wait goes on for its node to have a synchronous standby (then it ends all the same). */
const synchronousStandbyWaitMs = 30_000;

export function instanceActivities(deps: HostDeps) {
  const { docker } = deps;
  const desiredOptions = async (db: DatabaseContext, plan: InstancePlan, files: InstanceHostFiles) => {
    const image = await instanceImage(docker, { major: plan.postgresMajor, version: nodeVersion(db.spec, plan.nodeName), pinned: pinnedImage(db.spec, plan.nodeName), where: deps.hostId });
    return instanceOptions({ spec: db.spec, plan, namespace: activityNamespace(), image, files, host: deps });
  };

  return {
    /**
     * Network, volume, host files and a container for one instance, started unless the user stopped it. A
     * container whose options drifted from the spec is made again (`recreated`); its volume keeps the data.
     */
    async ensureInstance({ databaseId, instanceId }: InstanceKey): Promise<{ containerId: string; recreated: boolean }> {
      const db = await loadDatabase(deps.store, databaseId);
      const plan = findInstance(db, instanceId);
      if (plan.hostId !== deps.hostId) throw permanent(FailureType.misconfigured, `instance ${instanceId} belongs to ${plan.hostId}, not ${deps.hostId}`);
      const namespace = activityNamespace();
      await ensureNetwork(docker, ids.network(databaseId), databaseLabels(databaseId, namespace)); // the plan made it; a retry may not find it
      await ensureVolume(docker, ids.volume(instanceId), { ...databaseLabels(databaseId, namespace), [labels.instanceId]: instanceId });
      const files = await ensureInstanceFiles(deps, db, plan);
      const options = await desiredOptions(db, plan, files);
      const container = await ensureContainer(docker, options);
      await removeLegacySecretFiles(deps, instanceId); // an earlier version's, which this container does not mount
      await joinExtraNetworks(docker, instanceId, effectiveSwarm(db.spec, plan.nodeName).extra_networks ?? []);
      await startUnlessStopped(deps, db, plan); // a running Patroni reloads a changed configuration
      return { containerId: container.id, recreated: container.outcome === 'recreated' };
    },

    /**
     * Whether ensureInstance would make the instance's container again (its options — image, ports, resources,
     * orchestrator_opts, mounts — drifted from the spec). A missing container is not drift: it is only created.
     */
    async instanceDrifted({ databaseId, instanceId }: InstanceKey): Promise<boolean> {
      const db = await loadDatabase(deps.store, databaseId);
      const plan = findInstance(db, instanceId);
      const existing = await inspectContainerOrNull(docker, instanceId);
      if (!existing) return false;
      const options = await desiredOptions(db, plan, instanceHostFiles(deps.dataDir, instanceId));
      return existing.Config.Labels?.[labels.specHash] !== options.Labels?.[labels.specHash];
    },

    /**
     * Waits until Patroni runs Postgres in this instance and it accepts connections; returns the role it holds. With
     * `untilLeaderless`, returns early (`leaderless`, with the node's other members by their records) once its node
     * has had no leader for 10 s (after the old leader's key expired) while this instance waits for one: a replica
     * cannot clone from nobody, and a primary that died on another host is started again only by a step there (the
     * monitor leaves a database in a task alone).
     */
    async waitForInstance({ databaseId, instanceId, untilLeaderless }: InstanceKey & { untilLeaderless?: boolean }): Promise<{ role: 'primary' | 'replica' } | Leaderless> {
      const db = await loadDatabase(deps.store, databaseId);
      const record = await getInstance(deps.store, instanceId);
      if (record?.stopped) return { role: 'replica' }; // stopped on purpose: not waited for
      const startedAt = new Map<string, number>();
      const nodeName = record?.nodeName;
      let leaderlessSince: number | null = null;
      /** Whether the node has had no leader for long enough; a cluster view that cannot be read proves nothing. */
      const leaderlessFor = async (): Promise<boolean> => {
        if (!untilLeaderless || !nodeName) return false;
        const view = await nodeCluster(deps, db, nodeName).catch(() => null);
        if (!view) return false;
        leaderlessSince = view.cluster.leader ? null : leaderlessSince ?? Date.now();
        return leaderlessSince !== null && Date.now() - leaderlessSince >= leaderlessAfterMs;
      };
      const waiting = async (what: string): Promise<Leaderless | { waiting: string }> => {
        if (!(await leaderlessFor())) return { waiting: what };
        const others = (await listInstances(deps.store, databaseId)).filter((i) => i.nodeName === nodeName && i.id !== instanceId);
        return {
          leaderless: true,
          others: others.map((i) => ({ instanceId: i.id, hostId: i.hostId })),
          lines: [`node ${nodeName} has had no primary for ${leaderlessAfterMs / 1000} s while ${instanceId} waits (${what})`],
        };
      };
      return pollUntil<{ role: 'primary' | 'replica' } | Leaderless>(`instance ${instanceId}`, 5 * 60_000, async () => {
        const ip = await instanceAddress(deps, databaseId, instanceId);
        if (!ip) {
          // A container that exited while it booted (killed, its engine restarted) is started again.
          const restarted = await restartIfExited(deps, databaseId, instanceId, startedAt, db);
          return { waiting: restarted ?? 'container is not running' };
        }
        const status = await getPatroniStatus(ip);
        if (!status) return { waiting: 'Patroni does not answer yet' };
        // (a replica waits for a leader `stopped` or `creating replica`; one bootstrapping a node is neither)
        if (['stopped', 'creating replica'].includes(status.state)) return waiting(`Patroni state ${status.state}, role ${status.role}`);
        if (status.state !== 'running' || status.role === 'unknown') return { waiting: `Patroni state ${status.state}, role ${status.role}` };
        const client = await connectInstance(ip, db.secrets, 'postgres').catch(() => null);
        if (!client) return { waiting: 'Postgres does not accept connections yet' };
        await client.end();
        return { role: status.role };
      }).then(async (ready) => {
        // a replica: its node ready once Patroni names a synchronous standby (it promotes no other), a bounded wait
        if ('role' in ready && ready.role === 'replica' && nodeName) await waitForSynchronousStandby(deps, db, nodeName, synchronousStandbyWaitMs);
        return ready;
      });
    },

    /**
     * The instance's container started again if it exited (not one the user stopped); what it did, for the log. A
     * start that fails is told, not thrown: the wait that asked goes on all the same.
     */
    async startIfExited({ databaseId, instanceId }: InstanceKey): Promise<{ lines: string[] }> {
      const info = await inspectContainerOrNull(docker, instanceId);
      if (!info) return { lines: [`instance ${instanceId} has no container on ${deps.hostId}: nothing to start`] };
      const restarted = await restartIfExited(deps, databaseId, instanceId, new Map()).catch((err: unknown) =>
        `container ${instanceId} could not be started again: ${err instanceof Error ? err.message : String(err)}`);
      return { lines: [restarted ?? `container ${instanceId} is ${info.State.Status}${(await getInstance(deps.store, instanceId))?.stopped ? ' (stopped on purpose)' : ''}: nothing to start`] };
    },

    /** Container, volume and host files of one instance; absent pieces are fine. */
    async removeInstance({ instanceId }: InstanceKey): Promise<void> {
      await removeContainer(docker, instanceId);
      // a restore's one-off containers (one left to a retry that never came) would hold the volume
      for (const name of [ids.restoreContainer(instanceId), ids.restoreMarkerContainer(instanceId), ids.restoreCheckContainer(instanceId)]) await removeContainer(docker, name);
      await removeVolume(docker, ids.volume(instanceId));
      await removeInstanceFiles(deps, instanceId);
    },

    async ensureDatabaseNetwork({ databaseId }: { databaseId: string }): Promise<void> {
      await ensureNetwork(docker, ids.network(databaseId), databaseLabels(databaseId, activityNamespace()));
    },

    /**
     * Every network of the database's name; none left is fine. First every container and volume this engine holds
     * with the database's label (instances a spec no longer names, one-off containers), whatever the records say:
     * a network with an endpoint left cannot be removed.
     */
    async removeDatabaseNetwork({ databaseId }: { databaseId: string }): Promise<void> {
      const filters = JSON.stringify({ label: [`${labels.databaseId}=${databaseId}`] });
      for (const c of await docker.listContainers({ all: true, filters })) {
        await removeContainer(docker, c.Id);
        const instanceId = c.Labels?.[labels.instanceId];
        if (instanceId) await removeInstanceFiles(deps, instanceId);
      }
      for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await removeVolume(docker, v.Name);
      await removeNetwork(docker, ids.network(databaseId));
    },
  };
}

export type InstanceActivities = ReturnType<typeof instanceActivities>;
