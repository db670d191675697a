/**
 * Everything a room needs (mediasoup-client, the session, the room view and its
 * components) lives in one lazily loaded chunk, so the lobby's bundle stays small.
 * index.html carries a `<link rel=modulepreload>` for it (see vite.config.ts), and a shared
 * link (#/room/<id>) starts loading it right away.
 */
export { RoomSession } from './session/RoomSession.svelte.ts';
export { prewarmMedia } from './media/device.ts';
export { default as RoomView } from '../views/Room.svelte';
