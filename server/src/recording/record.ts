import { z } from 'zod';
import type { RecordingItem } from '@tutti/protocol';
import { roomPrefix, segment } from '../files/keys.ts';

/** Where recordings are served; links in RecordingItems point here. */
export const RECORDINGS_PATH = '/api/recordings';

const fileSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  size: z.number().int().min(0),
});

/** A finished recording as stored (manifest.json beside its files). */
export const recordSchema = z.object({
  id: z.uuid(),
  roomId: z.string().min(1).max(64),
  startedAt: z.number().int(),
  durationMs: z.number().int().min(0),
  status: z.enum(['ready', 'partial', 'failed']),
  error: z.string().nullable(),
  composite: fileSchema.nullable(),
  tracks: z.array(
    fileSchema.extend({
      kind: z.enum(['audio', 'video']),
      peerId: z.string(),
      source: z.string(),
      offsetMs: z.number().min(0),
    }),
  ),
});
export type RecordingRecord = z.infer<typeof recordSchema>;

export const MANIFEST = 'manifest.json';

export function recordingPrefix(roomId: string, recordingId: string): string {
  return `${roomPrefix(roomId)}${segment(recordingId)}/`;
}

export function recordingKey(roomId: string, recordingId: string, name: string): string {
  return `${recordingPrefix(roomId, recordingId)}${segment(name)}`;
}

/** The record as one member sees it: links carrying that member's access token. */
export function itemFor(record: RecordingRecord, token: string): RecordingItem {
  const link = (name: string) =>
    `${RECORDINGS_PATH}/${encodeURIComponent(record.roomId)}/${record.id}/${name}?t=${token}`;
  const files = [record.composite, ...record.tracks].filter((f) => f !== null);
  return {
    id: record.id,
    startedAt: record.startedAt,
    durationMs: record.durationMs,
    status: record.status,
    url: record.composite ? link(record.composite.name) : null,
    tracks: record.tracks.map((t) => ({ name: t.name, url: link(t.name), size: t.size })),
    size: files.reduce((sum, f) => sum + f.size, 0),
  };
}
