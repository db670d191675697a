import type {
  MediaKind,
  RtpCapabilities,
  RtpHeaderExtension,
  RtpParameters,
} from '@tutti/protocol';

/**
 * What the bots offer and send. Two load profiles:
 * - light: subscribers announce no header extensions (or only transport-wide CC with
 *   `--header-ext transport-cc`); publishers send one VP8 stream. The cheapest load.
 * - chrome: subscribers announce what Chrome does (transport-wide CC, abs-send-time, RTX,
 *   NACK / PLI / FIR); publishers send three simulcast layers and every subscriber picks one
 *   (media.setConsumerPreferredLayers) as a tile of some size would.
 */

export type LoadProfile = 'light' | 'chrome';
/** Header extensions of the light profile. */
export type HeaderExtProfile = 'none' | 'transport-cc';

export const RTCP_FB = [
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
];

const TCC_URI: RtpHeaderExtension['uri'] =
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const ABS_SEND_TIME_URI: RtpHeaderExtension['uri'] =
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
const MID_URI: RtpHeaderExtension['uri'] = 'urn:ietf:params:rtp-hdrext:sdes:mid';

/**
 * Simulcast layers of the chrome profile, low to high: the fixture (640×360, ~513 kbit/s)
 * with every frame cut to this fraction of its bytes, so each layer keeps 30 fps and its key
 * frames but carries about the bitrate and packet rate of a real layer (~130 / ~310 /
 * ~513 kbit/s; Tutti's client asks for ≤ 150 k / 500 k / 1.2 M). Nobody decodes the bytes.
 */
export const SIMULCAST_SCALES = [0.25, 0.6, 1] as const;

/** The spatial layer subscriber number `n` asks for: tiles of a grid, mostly small or mid. */
export function tileLayer(n: number): number {
  return [0, 1, 0, 2, 1, 0][n % 6]!;
}

export function botRtpCapabilities(
  headerExt: HeaderExtProfile,
  profile: LoadProfile = 'light',
): RtpCapabilities {
  if (profile === 'chrome') return chromeRtpCapabilities();
  const tcc = headerExt === 'transport-cc';
  const headerExtensions: RtpHeaderExtension[] = tcc
    ? (['video', 'audio'] as const).map((kind) => ({
        kind,
        uri: TCC_URI,
        preferredId: 5,
        direction: 'sendrecv' as const,
      }))
    : [];
  return {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        preferredPayloadType: 100,
        clockRate: 48000,
        channels: 2,
        parameters: {},
        rtcpFeedback: tcc ? [{ type: 'transport-cc' }] : [],
      },
      {
        kind: 'video',
        mimeType: 'video/VP8',
        preferredPayloadType: 101,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: tcc ? [...RTCP_FB, { type: 'transport-cc' }] : [...RTCP_FB],
      },
    ],
    headerExtensions,
  };
}

/** Chrome's receive capabilities for Opus + VP8, as mediasoup-client reports them. */
export function chromeRtpCapabilities(): RtpCapabilities {
  const ext = (
    kind: 'audio' | 'video',
    uri: RtpHeaderExtension['uri'],
    preferredId: number,
  ): RtpHeaderExtension => ({
    kind,
    uri,
    preferredId,
    direction: 'sendrecv',
  });
  return {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        preferredPayloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc' }],
      },
      {
        kind: 'video',
        mimeType: 'video/VP8',
        preferredPayloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [
          { type: 'goog-remb' },
          { type: 'transport-cc' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'nack' },
          { type: 'nack', parameter: 'pli' },
        ],
      },
      {
        kind: 'video',
        mimeType: 'video/rtx',
        preferredPayloadType: 97,
        clockRate: 90000,
        parameters: { apt: 96 },
        rtcpFeedback: [],
      },
    ],
    headerExtensions: [
      ext('audio', MID_URI, 1),
      ext('video', MID_URI, 1),
      ext('audio', ABS_SEND_TIME_URI, 4),
      ext('video', ABS_SEND_TIME_URI, 4),
      ext('audio', TCC_URI, 5),
      ext('video', TCC_URI, 5),
    ],
  };
}

/** Encodings of a simulcast VP8 producer, one SSRC per layer (low to high). */
export function simulcastEncodings(ssrcs: number[]): RtpParameters['encodings'] {
  return ssrcs.map((ssrc) => ({ ssrc, scalabilityMode: 'L1T1' }));
}

/** What a publisher bot produces: one SSRC, or one per simulcast layer (low to high). */
export function publisherRtpParameters(
  kind: MediaKind,
  mid: string,
  pt: number,
  ssrcs: number[],
  cname: string,
): RtpParameters {
  return {
    mid,
    codecs: [
      kind === 'video'
        ? {
            mimeType: 'video/VP8',
            payloadType: pt,
            clockRate: 90000,
            parameters: {},
            rtcpFeedback: [...RTCP_FB],
          }
        : {
            mimeType: 'audio/opus',
            payloadType: pt,
            clockRate: 48000,
            channels: 2,
            parameters: { useinbandfec: 1 },
            rtcpFeedback: [],
          },
    ],
    headerExtensions: [],
    encodings: ssrcs.length > 1 ? simulcastEncodings(ssrcs) : [{ ssrc: ssrcs[0]! }],
    rtcp: { cname, reducedSize: true },
  };
}
