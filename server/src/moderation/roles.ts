import { TuttiError, type Role } from '@tutti/protocol';

/**
 * The role rules, as pure functions of (actor, target) roles. The owner outranks
 * moderators, who outrank participants; nobody acts on someone who outranks them.
 */
const RANK: Record<Role, number> = { participant: 0, moderator: 1, owner: 2 };

export type ModerationAction =
  | 'mute'
  | 'allowUnmute'
  | 'stopVideo'
  | 'remove'
  | 'promote'
  | 'demote'
  | 'settings'
  | 'end'
  | 'admit';

export function isModerator(role: Role): boolean {
  return RANK[role] >= RANK.moderator;
}

/** Throws FORBIDDEN unless `actor` may do `action` (to `target`, when it has one). */
export function authorize(action: ModerationAction, actor: Role, target?: Role): void {
  if (!isModerator(actor)) throw forbidden('only the owner or a moderator can do that');
  if (target === undefined) return;
  switch (action) {
    case 'promote':
      if (target !== 'participant') throw forbidden('they are a moderator already');
      return;
    case 'demote':
    case 'remove':
      // Only someone of higher rank: the owner demotes or removes moderators.
      if (RANK[actor] <= RANK[target]) throw forbidden(`a ${target} cannot be ${action}d by you`);
      return;
    default:
      if (target === 'owner') throw forbidden("the owner's media is the owner's");
  }
}

export function forbidden(text: string): TuttiError {
  return new TuttiError('FORBIDDEN', text);
}
