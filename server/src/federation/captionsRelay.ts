import type { CaptionsService, RemoteCaptions } from '../captions/remote.ts';
import type { Logger } from '../kernel/log.ts';
import type { ClusterNode } from './node.ts';

/**
 * Captions across nodes (docs/cluster.md): lines and on/off switches on the signed bus; a
 * node that first needs a room asks the live nodes whether captions are on there
 * (`captions.state` RPC), so it need not have heard the switch.
 */
export function createCaptionsRelay(deps: {
  cluster: ClusterNode;
  service: CaptionsService;
  log: Logger;
  timeoutMs: number;
}): RemoteCaptions {
  const { cluster, timeoutMs } = deps;
  const { bus } = cluster;
  bus.subscribe(({ event }) => {
    if (event.type === 'captions.line') deps.service.lineElsewhere(event.roomId, event.line);
    else if (event.type === 'captions.switched')
      void deps.service.switchedElsewhere(event.roomId, event.enabled, event.by);
  });
  cluster.rpc.handle('captions.state', ({ roomId }) => deps.service.stateHere(roomId));
  return {
    line: (roomId, line) => bus.publish({ type: 'captions.line', roomId, line }),
    switched: (roomId, enabled, by) =>
      bus.publish({ type: 'captions.switched', roomId, enabled, by }),
    async catchUp(roomId) {
      const others = cluster.registry.nodes().filter((n) => n.nodeId !== cluster.nodeId);
      const answers = await Promise.all(
        others.map(({ nodeId }) =>
          cluster.rpc
            .request(nodeId, 'captions.state', { roomId }, { timeoutMs })
            .catch((err: unknown) => {
              deps.log.warn({ err, nodeId, roomId }, 'captions: no state from a node');
              return undefined;
            }),
        ),
      );
      const on = answers.find((a) => a?.enabled);
      return on ? { enabled: true, by: on.by } : { enabled: false, by: null };
    },
  };
}
