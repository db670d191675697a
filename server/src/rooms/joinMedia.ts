import { generateRouterRtpCapabilities } from 'mediasoup/ortc';
import { mediaCodecs } from '@tutti/media-workers';
import type {
  JoinDtlsParameters,
  JoinMedia,
  JoinMediaRequest,
  NewConsumer,
  RtpCapabilities,
  TransportOptions,
} from '@tutti/protocol';
import type { MemberMedia } from './MemberMedia.ts';

/**
 * The one-reply join (docs/protocol.md, `room.join` `media`): the transports and the
 * consumers of the producers already in the room come back in the join answer, so a client
 * that loaded its device with the lobby's router capabilities needs no further round trip
 * before ICE + DTLS.
 */

let lobbyCaps: { caps: RtpCapabilities; json: string } | undefined;

/**
 * What every router of this server offers: routers are made from the same `mediaCodecs`,
 * and mediasoup derives a router's capabilities from them alone (Worker.createRouter).
 */
export function serverRtpCapabilities(): RtpCapabilities {
  if (!lobbyCaps) {
    const caps = generateRouterRtpCapabilities(structuredClone(mediaCodecs)) as RtpCapabilities;
    lobbyCaps = { caps, json: JSON.stringify(caps) };
  }
  return lobbyCaps.caps;
}

/** Whether a router offers exactly what the lobby told (then a device loaded with it fits). */
function matchesLobby(routerCaps: unknown): boolean {
  serverRtpCapabilities();
  return JSON.stringify(routerCaps) === lobbyCaps?.json;
}

export interface PreparedJoinMedia {
  answer: JoinMedia;
  /** Call once the answer is on its way: the consumers in it are resumed then. */
  sent(): void;
}

/** Creates what `want` asks for on a member that was just admitted. */
export async function prepareJoinMedia(
  media: MemberMedia,
  want: JoinMediaRequest,
): Promise<PreparedJoinMedia> {
  const forceTcp = want.forceTcp ?? false;
  const make = (direction: 'send' | 'recv'): Promise<TransportOptions> | undefined =>
    want.transports.includes(direction)
      ? media.createTransport(direction, forceTcp, true)
      : undefined;
  const [send, recv] = await Promise.all([make('send'), make('recv')]);
  const answer: JoinMedia = { ...(send && { send }), ...(recv && { recv }) };
  // The client's DTLS parameters came with the join: connect both transports now, while
  // the consumers are made, so media.connectTransport leaves the critical path.
  const dtls = want.dtlsParameters;
  const connecting = dtls ? connectBoth(media, { send, recv }, dtls) : undefined;
  let sent: () => void = () => undefined;
  const caps = want.rtpCapabilities;
  if (recv && caps && matchesLobby(await media.routerRtpCapabilities())) {
    const wentOut = new Promise<void>((resolve) => (sent = resolve));
    const consumers: NewConsumer[] = [];
    // Resumed once the answer is out: the worker asks the producer for a key frame as soon
    // as a consumer is both resumed and on a DTLS-connected transport, whichever is last
    // (mediasoup's ProducerStreamManager OnResumed / OnTransportConnected).
    await media.readyInAnswer(caps, (offer) => {
      consumers.push(offer);
      return wentOut;
    });
    answer.consumers = consumers;
  }
  const connected = await connecting;
  if (connected?.length) answer.connected = connected;
  return { answer, sent };
}

/**
 * Connects the join's transports with the client's DTLS parameters; the directions that
 * worked. One the worker refused is left unconnected: the client's media.connectTransport
 * then does it as before.
 */
async function connectBoth(
  media: MemberMedia,
  transports: Partial<Record<'send' | 'recv', TransportOptions>>,
  dtls: JoinDtlsParameters,
): Promise<('send' | 'recv')[]> {
  const connect = async (direction: 'send' | 'recv'): Promise<'send' | 'recv' | undefined> => {
    const t = transports[direction];
    if (!t) return undefined;
    return media.connectTransport(t.id, dtls).then(
      () => direction,
      () => undefined,
    );
  };
  const done = await Promise.all([connect('recv'), connect('send')]);
  return done.filter((d) => d !== undefined);
}
