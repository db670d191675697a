import type {
  RouterRtpCodecCapability,
  TransportListenInfo,
  WebRtcTransportOptions,
} from 'mediasoup/types';

/** The media section of the Tutti config (structural, so this package needs no config dep). */
export interface MediaSettings {
  listenIp: string;
  announcedAddress?: string | undefined;
  rtcMinPort: number;
  rtcMaxPort: number;
  enableUdp: boolean;
  enableTcp: boolean;
  preferUdp: boolean;
  initialAvailableOutgoingBitrate: number;
}

/** Router codecs: Opus, VP8, VP9, H264 (constrained baseline 42e01f and main 4d0032). */
export const mediaCodecs: RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP9',
    clockRate: 90000,
    parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/h264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
  {
    kind: 'video',
    mimeType: 'video/h264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
];

/**
 * Config → WebRtcTransport listenInfos. UDP first (and preferred) when enabled, TCP as the
 * fallback; `forceTcp` leaves only TCP (for networks that block UDP).
 */
export function listenInfosFromConfig(
  media: MediaSettings,
  opts: { forceTcp?: boolean } = {},
): TransportListenInfo[] {
  const base = {
    ip: media.listenIp,
    ...(media.announcedAddress ? { announcedAddress: media.announcedAddress } : {}),
    portRange: { min: media.rtcMinPort, max: media.rtcMaxPort },
  };
  const infos: TransportListenInfo[] = [];
  const udp = media.enableUdp && !opts.forceTcp;
  const tcp = media.enableTcp || opts.forceTcp === true;
  if (udp) infos.push({ protocol: 'udp', ...base });
  if (tcp) infos.push({ protocol: 'tcp', ...base });
  if (infos.length === 0) throw new Error('media: enableUdp and enableTcp are both false');
  return infos;
}

/** Full WebRtcTransport options for one peer transport. */
export function webRtcTransportOptions(
  media: MediaSettings,
  opts: { forceTcp?: boolean } = {},
): WebRtcTransportOptions {
  const listenInfos = listenInfosFromConfig(media, opts);
  const hasUdp = listenInfos.some((l) => l.protocol === 'udp');
  return {
    listenInfos,
    enableUdp: hasUdp,
    enableTcp: listenInfos.some((l) => l.protocol === 'tcp'),
    preferUdp: media.preferUdp && hasUdp,
    enableSctp: false,
    initialAvailableOutgoingBitrate: media.initialAvailableOutgoingBitrate,
  };
}
