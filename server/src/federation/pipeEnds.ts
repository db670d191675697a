import type { z } from 'zod';
import type { PipeTransport, Router } from 'mediasoup/types';
import type { Config } from '@tutti/config';
import type { RpcHandler } from '../cluster/index.ts';
import type { MediaMethods } from './mediaMethods.ts';

/** The part of ClusterRpc the media federation uses (the node's rpc has more methods). */
export interface MediaRpc {
  request<K extends keyof MediaMethods & string>(
    nodeId: string,
    method: K,
    data: z.input<MediaMethods[K]['request']>,
    opts?: { timeoutMs?: number },
  ): Promise<z.output<MediaMethods[K]['response']>>;
  handle<K extends keyof MediaMethods & string>(
    method: K,
    handler: RpcHandler<MediaMethods, K>,
  ): void;
}

export type PipeEnd = z.output<MediaMethods['pipe.open']['response']>['origin'];

/**
 * One end of a cross-node pipe on `router`: UDP on this node's media address and port
 * range, SRTP on (the two nodes may be far apart), RTX and NACK both ways.
 */
export function createPipeEnd(
  router: Router,
  media: Config['media'],
  appData: { roomId: string; remoteNode: string },
): Promise<PipeTransport> {
  return router.createPipeTransport({
    listenInfo: {
      protocol: 'udp',
      ip: media.listenIp,
      ...(media.announcedAddress ? { announcedAddress: media.announcedAddress } : {}),
      portRange: { min: media.rtcMinPort, max: media.rtcMaxPort },
    },
    enableSrtp: true,
    enableRtx: true,
    appData,
  });
}

/** What the other node needs to connect to `transport`. */
export function describeEnd(transport: PipeTransport): PipeEnd {
  const { srtpParameters } = transport;
  if (!srtpParameters) throw new Error('pipe transport without SRTP');
  return {
    ip: transport.tuple.localAddress,
    port: transport.tuple.localPort,
    srtpParameters,
  };
}
