import type { Config } from '@tutti/config';
import type { ClusterOptions } from './createCluster.ts';
import type { RpcMethods } from './Rpc.ts';

/** Wraps an IPv6 literal for use in a URL. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The part of createCluster's options that comes from configuration alone. */
export type ClusterSettings = Pick<
  ClusterOptions<RpcMethods>,
  | 'nodeId'
  | 'httpUrl'
  | 'mediaAddress'
  | 'redis'
  | 'heartbeatMs'
  | 'expiryMs'
  | 'rpcTimeoutMs'
  | 'secret'
>;

/**
 * Reads the cluster settings from the config: Redis when TUTTI_REDIS_URL is set (else the
 * in-process hub), this node's id, and the addresses it advertises to the others (an
 * unspecified bind address is no use to them, so it falls back to loopback).
 */
export function clusterSettings(config: Config): ClusterSettings {
  const { server, media, cluster, redis } = config;
  const bound = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
  return {
    nodeId: cluster.nodeId,
    httpUrl:
      cluster.advertisedUrl ?? `http://${urlHost(media.announcedAddress ?? bound)}:${server.port}`,
    mediaAddress: media.announcedAddress ?? media.listenIp,
    redis: redis.url
      ? { url: redis.url, commandTimeoutMs: redis.commandTimeoutMs, prefix: cluster.redisPrefix }
      : undefined,
    heartbeatMs: cluster.heartbeatMs,
    expiryMs: cluster.nodeTimeoutMs,
    rpcTimeoutMs: cluster.rpcTimeoutMs,
    // RPC envelopes are signed with it, as the chat and presence buses' messages are.
    secret: config.files.secret,
  };
}
