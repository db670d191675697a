/**
 * What a room's join needs (mediasoup-client, the session and its stores) lives in one
 * lazily loaded chunk, so the lobby's bundle stays small; the room view is a chunk of its
 * own (room-view.ts). index.html carries a `<link rel=modulepreload>` for both (see
 * vite.config.ts), and a shared link (#/room/<id>) starts loading them right away.
 */
export { RoomSession } from './session/RoomSession.svelte.ts';
export { prewarmMedia } from './media/device.ts';
