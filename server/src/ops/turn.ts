import { createHmac } from 'node:crypto';
import type { Config } from '@tutti/config';
import type { IceServer, IceSettings } from '@tutti/protocol';

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix time (seconds) after which the TURN server refuses them. */
  expiresAt: number;
}

/**
 * Time-limited TURN credentials as coturn's `use-auth-secret` (the "TURN REST API" draft)
 * checks them: the username is `<expiry unix time>:<user>`, the password the base64
 * HMAC-SHA1 of the username keyed with the shared secret. Nothing is stored: the TURN
 * server recomputes the HMAC and refuses the username once its time has passed.
 */
export function turnCredentials(
  secret: string,
  user: string,
  ttlSeconds: number,
  nowMs: number = Date.now(),
): TurnCredentials {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/** What a joiner's transports get: the static servers, then TURN with fresh credentials. */
export type IceSettingsFor = (peerId: string) => IceSettings;

export function iceSettingsFrom(config: Pick<Config, 'media' | 'turn'>): IceSettingsFor {
  const { iceServers, iceTransportPolicy } = config.media;
  const { urls, secret, ttlSeconds } = config.turn;
  const staticServers: IceServer[] = iceServers.map((s) => ({ ...s, urls: [...s.urls] }));
  return (peerId) => {
    const servers = staticServers.map((s) => ({ ...s }));
    if (urls.length > 0 && secret !== undefined) {
      const { username, credential } = turnCredentials(secret, peerId, ttlSeconds);
      servers.push({ urls: [...urls], username, credential });
    }
    return { iceServers: servers, iceTransportPolicy };
  };
}
