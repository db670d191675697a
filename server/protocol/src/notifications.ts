import type { ChatMessage, MediaSource, PeerInfo, RoomSummary } from './common.ts';
import type { CaptionNotificationMap } from './captions.ts';
import type { GameNotificationMap } from './games.ts';
import type { ModerationNotificationMap } from './moderation.ts';
import type { RecordingNotificationMap } from './recording.ts';
import type { E2eeNotificationMap } from './e2ee.ts';

/** Server → client protoo notifications (fire and forget). */
/** Room life (games, reactions, hands) is in GameNotificationMap (games.ts). */
export interface NotificationMap
  extends
    GameNotificationMap,
    ModerationNotificationMap,
    CaptionNotificationMap,
    RecordingNotificationMap,
    E2eeNotificationMap {
  /** Full list; sent on lobby.subscribe changes (debounced). */
  'lobby.rooms': { rooms: RoomSummary[] };

  'room.peerJoined': { peer: PeerInfo };
  'room.peerLeft': { peerId: string; nickname: string };
  /** mic/camera/screen state changed. */
  'room.peerUpdated': { peer: PeerInfo };
  'room.updated': { room: RoomSummary };
  /** The room was deleted (or closed); the server disconnects members right after. */
  'room.closed': { reason: 'deleted' | 'shutdown' };

  'media.consumerClosed': { consumerId: string };
  'media.consumerPaused': { consumerId: string };
  'media.consumerResumed': { consumerId: string };
  'media.consumerLayersChanged': {
    consumerId: string;
    spatialLayer: number | null;
    temporalLayer: number | null;
  };
  'media.consumerScore': { consumerId: string; score: number; producerScore: number };
  'media.producerScore': { producerId: string; score: number };
  'media.activeSpeaker': { peerId: string | null };
  'media.audioLevels': { levels: { peerId: string; volume: number }[] };
  /**
   * The room's media moved (its worker died): drop transports, producers and consumers,
   * then redo getRouterRtpCapabilities → createTransport → ready → produce.
   */
  'media.restart': { reason: 'worker-died' };

  'chat.message': { message: ChatMessage };
  /**
   * After a resume through another node: more chat was sent meanwhile than the server sends
   * one by one (`too-many`: over 2000 messages or 1 MiB), or it could not be read (`failed`).
   * Read the history again (`chat.history` without `before`) and page back from there: what
   * the client holds may have a gap.
   */
  'chat.gap': { reason: 'too-many' | 'failed' };

  /**
   * This node is shutting down (SIGTERM drain) and takes no new peers: close the socket and
   * connect again at a random moment within `reconnectAfterMs` (spreading the load), then
   * join the room again. Behind a load balancer the new socket lands on another node.
   */
  'server.draining': { reconnectAfterMs: number };
}

export type NotificationMethod = keyof NotificationMap;
export type { MediaSource };
