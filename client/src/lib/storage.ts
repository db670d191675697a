/** Small typed wrappers around localStorage (which may be unavailable). */

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage disabled: nothing to remember
  }
}

export const JOIN_PATHS = [
  'short',
  'classic',
  'short-connect',
  'short-render-first',
  'short-late-socket',
] as const;
export type JoinPath = (typeof JOIN_PATHS)[number];

export const storage = {
  get nickname(): string {
    return read('tutti.nickname') ?? '';
  },
  set nickname(v: string) {
    write('tutti.nickname', v);
  },
  ownerSecret(roomId: string): string | null {
    return read(`tutti.owner.${roomId}`);
  },
  setOwnerSecret(roomId: string, secret: string | null): void {
    write(`tutti.owner.${roomId}`, secret);
  },
  device(kind: 'audioinput' | 'videoinput' | 'audiooutput'): string | null {
    return read(`tutti.device.${kind}`);
  },
  setDevice(kind: 'audioinput' | 'videoinput' | 'audiooutput', id: string | null): void {
    write(`tutti.device.${kind}`, id);
  },
  /** Turn on mic and camera when joining (default yes; tests of chat turn it off). */
  get autoMedia(): boolean {
    return read('tutti.autoMedia') !== 'off';
  },
  /**
   * The one-reply join (default): the device is loaded with the lobby's router capabilities
   * and room.join brings transports and consumers, with the DTLS fingerprint sent ahead.
   * For bench:join, which compares them in one run: 'classic' keeps the old request
   * sequence, 'short-connect' sends no fingerprint (media.connectTransport as before),
   * 'short-render-first' renders the room view before the consumers are set up,
   * 'short-late-socket' has the app open its socket after its chunks are evaluated (boot.ts
   * opens none: the page before it).
   */
  get joinPath(): JoinPath {
    const v = read('tutti.joinPath');
    return JOIN_PATHS.find((p) => p === v) ?? 'short';
  },
  /** Max camera capture height (tests lower it to save CPU). */
  get cameraHeight(): number {
    const n = Number(read('tutti.cameraHeight'));
    return Number.isFinite(n) && n >= 90 ? n : 540;
  },
};
