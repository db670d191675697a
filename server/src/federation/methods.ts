import type { RpcMethods } from '../cluster/index.ts';
import { mediaMethods } from './mediaMethods.ts';
import { moderationMethods } from './moderationMethods.ts';
import { presenceMethods } from './presenceMethods.ts';
import { recordingMethods } from './recordingMethods.ts';
import { e2eeMethods } from './e2eeMethods.ts';
import { captionsMethods } from './captionsMethods.ts';
import { handoverMethods } from './handoverMethods.ts';
import { roomLifeMethods } from './roomLifeMethods.ts';

/**
 * Every node-to-node request of a cluster, method → request/response schema. Each concern
 * that talks across nodes (presence, media pipes…) keeps its own map in its own file; this
 * is the one place they are joined, so ClusterRpc is typed by all of them.
 */
export const clusterMethods = {
  ...presenceMethods,
  ...mediaMethods,
  ...moderationMethods,
  ...recordingMethods,
  ...e2eeMethods,
  ...roomLifeMethods,
  ...captionsMethods,
  ...handoverMethods,
} satisfies RpcMethods;

export type ClusterMethods = typeof clusterMethods;
