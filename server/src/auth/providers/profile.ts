import { TuttiError } from '@tutti/protocol';
import type { AuthProviderConfig } from '@tutti/config';
import type { ProviderProfile } from '../AccountService.ts';

/** Follows a dotted path ("response.email") into a JSON value. */
export function pick(data: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let node: unknown = data;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const text = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null;

/** Maps a provider's profile JSON to a ProviderProfile through the configured field paths. */
export function mapProfile(provider: AuthProviderConfig, data: unknown): ProviderProfile {
  const subject = text(pick(data, provider.profile.id));
  if (!subject)
    throw new TuttiError(
      'LOGIN_FAILED',
      `${provider.name} sent no user id at "${provider.profile.id}"`,
    );
  const email = text(pick(data, provider.profile.email));
  const verified = pick(data, provider.profile.emailVerified);
  return {
    provider: provider.id,
    subject,
    name: text(pick(data, provider.profile.name)),
    email: email && email.includes('@') ? email : null,
    // Some providers send the flag as a string.
    emailVerified: email !== null && (verified === true || verified === 'true'),
  };
}
