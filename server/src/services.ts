import type { DatabaseSync } from 'node:sqlite';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import type { MediaFederation } from './federation/mediaFederation.ts';
import type { ClusterNode } from './federation/node.ts';
import type { Drain } from './ops/drain.ts';
import type { RoomRegistry } from './rooms/RoomRegistry.ts';
import type { Stores } from './store/createStore.ts';
import type { ConnectionRegistry } from './transport/connections.ts';

/**
 * The services built before any plugin, reachable read-only as `app.tutti` (shutdown in
 * main.ts, tests). Plugins get what they need as options instead of reading this.
 */
export interface TuttiServices {
  readonly config: Config;
  /** Rooms, chat history, accounts: SQLite or PostgreSQL (store/createStore.ts). */
  readonly stores: Stores;
  /** The SQLite database under config.data.dir, when the stores are SQLite (tests look in). */
  readonly db: DatabaseSync | undefined;
  readonly workers: WorkerPool;
  readonly rooms: RoomRegistry;
  /** Every open signaling connection. */
  readonly connections: ConnectionRegistry;
  /** The SIGTERM drain (main.ts begins it; readiness and the join gate read it). */
  readonly drain: Drain;
  /** This node in its cluster (a cluster of one without Redis): registry, RPC, placement. */
  readonly cluster: ClusterNode;
  /** Media across nodes: this node's pipes out (origin) and in (edge). */
  readonly mediaFederation: MediaFederation;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly tutti: TuttiServices;
  }
}

/** The (already built) services, frozen: nothing writes into them afterwards. */
const decorate: FastifyPluginAsync<{ services: TuttiServices }> = async (app, { services }) => {
  app.decorate('tutti', Object.freeze({ ...services }));
};

/** Decorates the root instance (fastify-plugin: the decoration is not encapsulated). */
export const servicesPlugin = fp(decorate, { name: 'tutti-services' });
