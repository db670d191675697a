import { z } from 'zod';

/** Shapes shared by requests, notifications and the HTTP API. */

export const roomNameSchema = z
  .string()
  .trim()
  .min(1, 'room name must not be empty')
  .max(64, 'room name is at most 64 characters');

export const nicknameSchema = z
  .string()
  .trim()
  .min(1, 'nickname must not be empty')
  .max(32, 'nickname is at most 32 characters');

export const roomPasswordSchema = z.string().min(1).max(128);
export const capacitySchema = z.number().int().min(2).max(1000);
export const idSchema = z.string().min(1).max(64);

/** What the lobby shows for a room. Never contains the password or owner secret. */
export interface RoomSummary {
  id: string;
  name: string;
  peers: number;
  capacity: number | null;
  locked: boolean;
  createdAt: number;
}

export type MediaSource = 'mic' | 'camera' | 'screen' | 'screen-audio';
export const mediaSourceSchema = z.enum(['mic', 'camera', 'screen', 'screen-audio']);

/** Per-person state everybody in the room sees. */
export interface PeerInfo {
  id: string;
  nickname: string;
  /** 'off' = producing but paused (muted); 'none' = not producing at all. */
  mic: 'on' | 'off' | 'none';
  camera: 'on' | 'off' | 'none';
  screen: boolean;
  joinedAt: number;
}

export interface ChatMessage {
  id: string;
  /**
   * Server order: strictly increasing in the order messages were accepted. Clients merge
   * join history and live `chat.message` notifications by `id` and sort by `seq`.
   */
  seq: number;
  roomId: string;
  from: { peerId: string; nickname: string };
  /** Set on private messages: only sender and this peer ever see them. */
  to?: { peerId: string; nickname: string };
  text: string;
  createdAt: number;
  /** Present on file messages posted by the server after an upload. */
  file?: SharedFile;
}

export interface SharedFile {
  id: string;
  /** Sanitised original name. */
  name: string;
  size: number;
  /** MIME type detected from the content (not the name). */
  type: string;
  /**
   * Download link for *this* recipient: carries its access token, works from a plain
   * `<a href>` while the recipient is in the room; served as an attachment.
   */
  url: string;
  /** Images only: same bytes served inline, for an `<img>` preview. */
  previewUrl?: string;
}
