import type { LocalEpochs, RemoteEpochs } from '../e2ee/remote.ts';
import type { Logger } from '../kernel/log.ts';
import type { ClusterNode } from './node.ts';

/**
 * E2EE key epochs across nodes (docs/e2ee.md): a node that moves a room to a new epoch says
 * so on the presence bus (`e2ee.epoch`, signed like every presence event) and every node
 * follows the highest; a node asks the live nodes when the room's first member joins there.
 */
export function createE2eeEpochRelay(deps: {
  cluster: ClusterNode;
  local: LocalEpochs;
  log: Logger;
  timeoutMs: number;
}): RemoteEpochs {
  const { cluster, local, timeoutMs } = deps;
  cluster.bus.subscribe(({ event }) => {
    if (event.type === 'e2ee.epoch') local.adopt(event.roomId, event.epoch, event.reason);
  });
  cluster.rpc.handle('e2ee.epoch', ({ roomId }) => ({ epoch: local.epochOf(roomId) }));
  return {
    announce(roomId, epoch, reason) {
      cluster.bus.publish({ type: 'e2ee.epoch', roomId, epoch, reason });
    },
    async highest(roomId) {
      const others = cluster.registry.nodes().filter((n) => n.nodeId !== cluster.nodeId);
      const answers = await Promise.all(
        others.map(({ nodeId }) =>
          cluster.rpc
            .request(nodeId, 'e2ee.epoch', { roomId }, { timeoutMs })
            .then((a) => a.epoch)
            .catch((err: unknown) => {
              deps.log.warn({ err, nodeId, roomId }, 'e2ee: no epoch from a node');
              return 0;
            }),
        ),
      );
      return Math.max(0, ...answers);
    },
  };
}
