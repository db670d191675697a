import { killChild, spawnPiped } from './child.ts';
import { PCM_RATE } from './transcriber.ts';

/** What ffmpeg is told of the RTP it receives (from the PlainTransport consumer). */
export interface RtpInput {
  ip: string;
  port: number;
  payloadType: number;
  /** e.g. "opus/48000/2". */
  rtpmap: string;
}

export interface Decoder {
  readonly pid: number | undefined;
  /** Milliseconds since it started. */
  readonly age: number;
  kill(): Promise<void>;
}

export interface DecoderHandlers {
  onPcm(pcm: Buffer): void;
  /** ffmpeg ended on its own: code 0 after ~10 s without RTP (its input timeout), else failed. */
  onExit(code: number | null, detail: string): void;
}

/** The session description ffmpeg reads from stdin: one audio stream on `port`. */
export function sdpFor(input: RtpInput): string {
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${input.ip}`,
    's=tutti-captions',
    `c=IN IP4 ${input.ip}`,
    't=0 0',
    `m=audio ${input.port} RTP/AVP ${input.payloadType}`,
    `a=rtpmap:${input.payloadType} ${input.rtpmap}`,
    '',
  ].join('\r\n');
}

/** ffmpeg decoding RTP (Opus) to PCM_RATE mono s16le on stdout. */
export function openDecoder(ffmpeg: string, input: RtpInput, handlers: DecoderHandlers): Decoder {
  const startedAt = Date.now();
  let killed = false;
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-protocol_whitelist', 'pipe,udp,rtp', '-fflags', 'nobuffer'],
    ...['-f', 'sdp', '-i', 'pipe:0'],
    ...['-vn', '-ac', '1', '-ar', String(PCM_RATE), '-f', 's16le', 'pipe:1'],
  ];
  const child = spawnPiped(ffmpeg, args, (code, signal, stderr) => {
    if (!killed) handlers.onExit(code, signal ? `signal ${signal}` : stderr);
  });
  child.stdout.on('data', (pcm: Buffer) => handlers.onPcm(pcm));
  child.stdin.end(sdpFor(input));
  return {
    get pid() {
      return child.pid;
    },
    get age() {
      return Date.now() - startedAt;
    },
    kill() {
      killed = true;
      return killChild(child);
    },
  };
}
