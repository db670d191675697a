import type { RtpParameters } from 'mediasoup/types';

/** What a track's file is: WebM for VP8/VP9/Opus, Matroska for H264 (WebM cannot hold it). */
export function containerFor(mimeType: string): 'webm' | 'mkv' {
  return /h264/i.test(mimeType) ? 'mkv' : 'webm';
}

/**
 * The SDP ffmpeg reads to receive one consumer's RTP on `port` (RTCP on port + 1), from
 * the consumer's own RTP parameters: its codec, payload type and format parameters.
 */
export function trackSdp(
  kind: 'audio' | 'video',
  rtp: RtpParameters,
  ip: string,
  port: number,
): string {
  const codec = rtp.codecs[0];
  if (!codec) throw new Error('consumer has no codec');
  const name = codec.mimeType.split('/')[1] ?? codec.mimeType;
  const channels = kind === 'audio' && codec.channels ? `/${codec.channels}` : '';
  const fmtp = Object.entries(codec.parameters ?? {})
    .filter(([k]) => !k.startsWith('x-google'))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=- 0 0 IN ${family} ${ip}`,
    's=tutti-recording',
    `c=IN ${family} ${ip}`,
    't=0 0',
    `m=${kind} ${port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\r\n');
}
