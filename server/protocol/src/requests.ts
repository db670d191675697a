import type { ChatMessage, MediaSource, PeerInfo, RoomSummary } from './common.ts';
import type {
  DtlsFingerprint,
  DtlsParameters,
  IceCandidate,
  IceParameters,
  MediaKind,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
} from './mediaParameters.ts';
import {
  GAME_REQUEST_METHODS,
  type GameRequestMap,
  type GameResponseMap,
  type RoomLifeJoinExtras,
} from './games.ts';
import {
  MODERATION_REQUEST_METHODS,
  type ModerationRequestMap,
  type ModerationResponseMap,
  type ModerationSnapshot,
} from './moderation.ts';
import {
  CAPTION_REQUEST_METHODS,
  type CaptionRequestMap,
  type CaptionResponseMap,
  type CaptionsJoinExtras,
} from './captions.ts';
import {
  RECORDING_REQUEST_METHODS,
  type RecordingJoinExtras,
  type RecordingRequestMap,
  type RecordingResponseMap,
} from './recording.ts';
import {
  E2EE_REQUEST_METHODS,
  type E2eeJoinExtras,
  type E2eeRequestMap,
  type E2eeResponseMap,
} from './e2ee.ts';

/**
 * Client → server protoo requests: the data each method takes and the answer it gets.
 * The server validates every request against `requestSchemas` (`@tutti/protocol/schemas`),
 * which is checked at compile time to produce exactly these shapes.
 */
export interface RequestMap
  extends
    GameRequestMap,
    ModerationRequestMap,
    CaptionRequestMap,
    RecordingRequestMap,
    E2eeRequestMap {
  // Lobby
  'lobby.subscribe': Empty;
  /** e2ee: the room is end-to-end encrypted (members hold a passphrase; fixed for its life). */
  'room.create': { name: string; password?: string; capacity?: number; e2ee?: boolean };

  // Membership
  /**
   * `nickname` defaults to the account name when signed in (guests must give one);
   * `ownerSecret` (from room.create) makes a guest creator the room's owner; `token`: a
   * signed join token (docs/admin-api.md), it sets the nickname and role.
   */
  'room.join': {
    roomId: string;
    nickname?: string;
    password?: string;
    ownerSecret?: string;
    token?: string;
    /** The one-reply join: what to set up with the membership (see JoinMediaRequest). */
    media?: JoinMediaRequest;
  };
  'room.leave': Empty;
  /**
   * A new socket takes over the membership an earlier one left behind (network blip): the
   * token is the `resumeToken` of the last join or resume answer; single use.
   */
  'session.resume': { token: string };
  /**
   * The resume answer arrived: the token that resume spent is dead from now on (until then
   * it may resume the same membership again, in case the answer was lost: docs/reconnect.md).
   */
  'session.confirm': Empty;
  /** Liveness probe: the client finds a dead socket the browser has not noticed yet. */
  'session.ping': Empty;
  /** Owner only (owner secret from room.create / POST /api/rooms). */
  'room.delete': { roomId: string; ownerSecret: string };
  'room.update': {
    roomId: string;
    ownerSecret: string;
    name?: string;
    /** null removes the password. */
    password?: string | null;
    capacity?: number | null;
  };

  // Media
  'media.getRouterRtpCapabilities': Empty;
  'media.createTransport': { direction: 'send' | 'recv'; forceTcp?: boolean };
  'media.connectTransport': { transportId: string; dtlsParameters: DtlsParameters };
  'media.restartIce': { transportId: string };
  /** Announces the device's capabilities; the server then creates consumers for everything. */
  'media.ready': { rtpCapabilities: RtpCapabilities };
  'media.produce': {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
    paused?: boolean;
  };
  'media.closeProducer': { producerId: string };
  'media.pauseProducer': { producerId: string };
  'media.resumeProducer': { producerId: string };
  'media.pauseConsumer': { consumerId: string };
  'media.resumeConsumer': { consumerId: string };
  'media.setConsumerPreferredLayers': {
    consumerId: string;
    spatialLayer: number;
    temporalLayer?: number;
  };
  'media.getStats': { kind: 'transport' | 'producer' | 'consumer'; id: string };

  // Chat
  'chat.send': {
    text: string;
    /** Peer id of the recipient of a private message. */
    to?: string;
    /**
     * Client-made idempotency key: a resend with the same key (same room, same sender) is
     * answered with the message stored the first time and is not delivered again.
     */
    key?: string;
  };
  'chat.history': {
    /** Cursor: return messages older than this message id. */
    before?: string;
    limit?: number;
  };

  // Files
  'files.uploadToken': Empty;
}

/** Data of a method that takes none (protoo sends `{}`). */
export type Empty = Record<string, never>;

export type RequestMethod = keyof RequestMap;
export type RequestData<M extends RequestMethod> = RequestMap[M];
/**
 * Request data after validation and normalisation (strings trimmed, unsafe characters
 * stripped): the same shape as what the client sends.
 */
export type ValidRequestData<M extends RequestMethod> = RequestMap[M];

export interface TransportOptions {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
  sctpParameters?: SctpParameters;
}

/** An RTCIceServer: STUN, or TURN with credentials (TURN REST ones expire: see docs). */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** How the browser's transports reach the media server (RTCConfiguration's ICE part). */
export interface IceSettings {
  iceServers: IceServer[];
  /** 'relay': TURN only. */
  iceTransportPolicy: 'all' | 'relay';
}

/**
 * `room.join`'s optional media part. `transports`: create these WebRtcTransports with the
 * join (their parameters come back in `JoinResult.media`, as `media.createTransport` would
 * answer). `rtpCapabilities`: the device's, loaded with the `routerRtpCapabilities` of the
 * `lobby.subscribe` answer — the same as `media.ready`, and the consumers of every producer
 * already in the room come back in the same answer (needs `'recv'`).
 */
export interface JoinMediaRequest {
  transports: ('send' | 'recv')[];
  rtpCapabilities?: RtpCapabilities;
  forceTcp?: boolean;
  /**
   * The client's DTLS parameters, known before its transports exist (its RTCCertificate was
   * generated ahead and is given to the RTCPeerConnections): the server connects the
   * transports of the join with them, so no `media.connectTransport` is needed (the
   * answer's `connected` lists which).
   */
  dtlsParameters?: JoinDtlsParameters;
}

/**
 * DTLS parameters sent ahead: the role is always `client` (what a browser answering the
 * server's `actpass` takes; with `auto` mediasoup would be the DTLS client too).
 */
export interface JoinDtlsParameters {
  role: 'client';
  fingerprints: DtlsFingerprint[];
}

/**
 * What a join with `media` gets: the transports asked for and, when capabilities were
 * given and match this router's, `consumers` — each as `media.newConsumer` would offer it,
 * already resumed on the server (nothing to answer): create them on the recv transport.
 * No `consumers` field: the capabilities did not match (or were not sent); load the device
 * with `routerRtpCapabilities` and send `media.ready` as in the old flow.
 */
export interface JoinMedia {
  send?: TransportOptions;
  recv?: TransportOptions;
  consumers?: NewConsumer[];
  /**
   * The transports the server connected with the join's `dtlsParameters`: their `connect`
   * event needs no `media.connectTransport` (one that comes anyway with the same
   * parameters is answered as done). Absent: connect them as before.
   */
  connected?: ('send' | 'recv')[];
}

/** `game` and `hands` (room life) are there when the games module runs; `captions` and
 * `recording` likewise. */
export interface JoinResult
  extends
    IceSettings,
    Partial<RoomLifeJoinExtras>,
    Partial<CaptionsJoinExtras>,
    Partial<RecordingJoinExtras>,
    Partial<E2eeJoinExtras> {
  self: PeerInfo;
  peers: PeerInfo[];
  room: RoomSummary;
  routerRtpCapabilities: RtpCapabilities;
  /** Latest chat messages visible to this peer, oldest first. */
  history: ChatMessage[];
  /** Room settings, and (for owners and moderators) who is waiting. */
  moderation?: ModerationSnapshot;
  /** For `session.resume` after a dropped socket (absent when the server keeps no grace). */
  resumeToken?: string;
  /** Only when the join asked for `media` (the one-reply join). */
  media?: JoinMedia;
}

/** The membership as it stands now, after a resume. */
export interface ResumeResult {
  self: PeerInfo;
  peers: PeerInfo[];
  room: RoomSummary;
  /** The next token: the one just used is spent. */
  resumeToken: string;
  /**
   * `kept`: the same node, media and transports are the same. `rebuild`: the membership came
   * over from another node of the cluster, whose transports are gone: drop transports,
   * producers and consumers and redo them here (as after `media.restart`), same tracks.
   */
  media: 'kept' | 'rebuild';
}

export interface ResponseMap
  extends
    GameResponseMap,
    ModerationResponseMap,
    CaptionResponseMap,
    RecordingResponseMap,
    E2eeResponseMap {
  /**
   * `routerRtpCapabilities`: what every router of this server offers (the same as the
   * room.join answer's), so a client can load its device before it joins (one-reply join).
   */
  'lobby.subscribe': { rooms: RoomSummary[]; routerRtpCapabilities?: RtpCapabilities };
  'room.create': { room: RoomSummary; ownerSecret: string };
  'room.join': JoinResult;
  'room.leave': Empty;
  'session.resume': ResumeResult;
  'session.confirm': Empty;
  'session.ping': Empty;
  'room.delete': Empty;
  'room.update': { room: RoomSummary };
  'media.getRouterRtpCapabilities': { rtpCapabilities: RtpCapabilities };
  'media.createTransport': TransportOptions;
  'media.connectTransport': Empty;
  'media.restartIce': { iceParameters: IceParameters };
  'media.ready': Empty;
  'media.produce': { producerId: string };
  'media.closeProducer': Empty;
  'media.pauseProducer': Empty;
  'media.resumeProducer': Empty;
  'media.pauseConsumer': Empty;
  'media.resumeConsumer': Empty;
  'media.setConsumerPreferredLayers': Empty;
  'media.getStats': { stats: unknown[] };
  'chat.send': { message: ChatMessage };
  'chat.history': { messages: ChatMessage[]; hasMore: boolean };
  'files.uploadToken': { token: string; uploadUrl: string; expiresAt: number };
}

/** What `media.newConsumer` carries: everything recvTransport.consume() needs, plus who and what. */
export interface NewConsumer {
  id: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  rtpParameters: RtpParameters;
  type: 'simple' | 'simulcast' | 'svc' | 'pipe';
  producerPaused: boolean;
}

/** Server → client protoo *requests* (the client must answer before the server proceeds). */
export interface ServerRequestMap {
  /** Create the consumer locally, then answer; the server resumes it once answered. */
  'media.newConsumer': { request: NewConsumer; response: Empty };
}
export type ServerRequestMethod = keyof ServerRequestMap;

/** Every request method, for lookups at run time (the keys of RequestMap, checked below). */
export const REQUEST_METHODS = [
  'lobby.subscribe',
  'room.create',
  'room.join',
  'room.leave',
  'session.resume',
  'session.confirm',
  'session.ping',
  'room.delete',
  'room.update',
  'media.getRouterRtpCapabilities',
  'media.createTransport',
  'media.connectTransport',
  'media.restartIce',
  'media.ready',
  'media.produce',
  'media.closeProducer',
  'media.pauseProducer',
  'media.resumeProducer',
  'media.pauseConsumer',
  'media.resumeConsumer',
  'media.setConsumerPreferredLayers',
  'media.getStats',
  'chat.send',
  'chat.history',
  'files.uploadToken',
  // Room life: games, reactions, raised hands (games.ts)
  ...GAME_REQUEST_METHODS,
  // Moderation and the waiting room (moderation.ts)
  ...MODERATION_REQUEST_METHODS,
  // Live captions (captions.ts)
  ...CAPTION_REQUEST_METHODS,
  // Recording (recording.ts)
  ...RECORDING_REQUEST_METHODS,
  // End-to-end encryption: key epochs (e2ee.ts)
  ...E2EE_REQUEST_METHODS,
] as const satisfies readonly RequestMethod[];

// Compile time: the list names every method of RequestMap (a forgotten one fails here).
type Unlisted = Exclude<RequestMethod, (typeof REQUEST_METHODS)[number]>;
type _EveryMethodListed = Expect<[Unlisted] extends [never] ? true : false>;
type Expect<T extends true> = T;

const methodSet: ReadonlySet<string> = new Set(REQUEST_METHODS);

export function isRequestMethod(method: string): method is RequestMethod {
  return methodSet.has(method);
}
