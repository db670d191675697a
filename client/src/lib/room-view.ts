/**
 * The room view and its components: a lazily loaded chunk of its own, apart from the session
 * and media code (room-chunk.ts), so a shared link's `room.join` leaves once the session's
 * chunk is evaluated and the view's chunk is evaluated while the join is answered.
 * index.html carries a `<link rel=modulepreload>` for it too (see vite.config.ts).
 */
export { default as RoomView } from '../views/Room.svelte';
