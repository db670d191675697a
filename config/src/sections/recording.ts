import { z } from 'zod';
import { bool, port, seconds } from './fields.ts';

/**
 * Server-side recording (issue #13): ffmpeg per track, on ports and processes of its own.
 * The port range is split in two: the lower half for ffmpeg's RTP/RTCP sockets, the upper
 * half for the worker's PlainTransports (so neither picks the other's port).
 */
export const recordingSection = z
  .object({
    enabled: bool.default(true),
    /** Recordings (rooms being recorded) this node runs at once (TUTTI_RECORDING_MAX_CONCURRENT). */
    maxConcurrent: z.coerce.number().int().min(0).default(4),
    /** Tracks one recording writes at once; more are refused (logged) rather than starve the node. */
    maxTracks: z.coerce.number().int().min(1).default(32),
    portMin: port.default(51000),
    portMax: port.default(51999),
    /** Listen address of the PlainTransports and ffmpeg (loopback: nothing leaves the node). */
    ip: z.string().default('127.0.0.1'),
    ffmpegPath: z.string().default('ffmpeg'),
    /** A recording stops by itself after this long. */
    maxDurationSeconds: seconds.default(4 * 3600),
    /** The composite (a transcode) is killed past max(this, 3 × the recording's length). */
    compositeTimeoutSeconds: seconds.default(600),
  })
  .prefault({})
  .refine((r) => r.portMax - r.portMin >= 16, {
    message: 'recording.portMax must be at least 16 above portMin',
    path: ['portMax'],
  });
