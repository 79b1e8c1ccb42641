import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import type { Store } from '../store/db.js';
import type { Etcd } from './etcd.js';

/** What host activities need: this host's Docker engine and files, and the store. */
export interface HostDeps {
  docker: Docker;
  store: Store;
  hostId: string;
  hostAddress: string;
  dataDir: string;
  /** etcd endpoints (host:port) as seen from inside containers: Patroni's DCS. */
  etcdHostsForContainers: string[];
  /** etcd as the control plane reaches it, with its root credential (never given to a container). */
  etcd: Etcd;
  /** /etc/hosts entries (`name:address`) of every container this host runs for instances. */
  containerExtraHosts: string[];
  /** PGCP_REPOSITORY_ROOTS: where posix/cifs repositories may lie on this host. */
  repositoryRoots: string[];
}

/** What control-plane activities need; a Temporal client for backup schedules. */
export interface ControlPlaneDeps { store: Store; etcd: Etcd; temporal?: Client }
