import type { CaptionsService, RemoteCaptions } from '../captions/remote.ts';
import type { ClusterNode } from './node.ts';

/** Captions across nodes: lines and on/off switches on the signed bus (docs/cluster.md). */
export function createCaptionsRelay(deps: {
  cluster: ClusterNode;
  service: CaptionsService;
}): RemoteCaptions {
  const { bus } = deps.cluster;
  bus.subscribe(({ event }) => {
    if (event.type === 'captions.line') deps.service.lineElsewhere(event.roomId, event.line);
    else if (event.type === 'captions.switched')
      void deps.service.switchedElsewhere(event.roomId, event.enabled, event.by);
  });
  return {
    line: (roomId, line) => bus.publish({ type: 'captions.line', roomId, line }),
    switched: (roomId, enabled, by) =>
      bus.publish({ type: 'captions.switched', roomId, enabled, by }),
  };
}
