import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, TuttiError, type Role } from '@tutti/protocol';
import { moderationRequestSchemas } from '@tutti/protocol/schemas';
import { authorize, isModerator, type ModerationAction } from '../../src/moderation/roles.ts';
import { RoomModerationState } from '../../src/moderation/roomState.ts';
import { WaitingRoom } from '../../src/moderation/waitingRoom.ts';

// Issue 11, moderation: the role rules, the waiting room's bookkeeping and a room's
// moderation state, without a server.

const allowed = (action: ModerationAction, actor: Role, target?: Role): boolean => {
  try {
    authorize(action, actor, target);
    return true;
  } catch (err) {
    assert.ok(err instanceof TuttiError && err.code === 'FORBIDDEN', String(err));
    return false;
  }
};

describe('roles', () => {
  test('a participant may do nothing, to anyone', () => {
    const actions: ModerationAction[] = [
      'mute',
      'allowUnmute',
      'stopVideo',
      'remove',
      'promote',
      'demote',
      'settings',
      'end',
      'admit',
    ];
    for (const action of actions) {
      assert.equal(allowed(action, 'participant'), false, action);
      for (const target of ROLES) assert.equal(allowed(action, 'participant', target), false);
    }
    assert.equal(isModerator('participant'), false);
    assert.equal(isModerator('moderator'), true);
    assert.equal(isModerator('owner'), true);
  });

  test('moderators mute and stop participants and each other, never the owner', () => {
    for (const action of ['mute', 'stopVideo', 'allowUnmute'] as const) {
      assert.equal(allowed(action, 'moderator', 'participant'), true);
      assert.equal(allowed(action, 'moderator', 'moderator'), true);
      assert.equal(allowed(action, 'moderator', 'owner'), false);
      assert.equal(allowed(action, 'owner', 'moderator'), true);
    }
  });

  test('removing and demoting need a higher rank; promoting needs a participant', () => {
    assert.equal(allowed('remove', 'moderator', 'participant'), true);
    assert.equal(allowed('remove', 'moderator', 'moderator'), false);
    assert.equal(allowed('remove', 'moderator', 'owner'), false);
    assert.equal(allowed('remove', 'owner', 'moderator'), true);
    assert.equal(allowed('demote', 'owner', 'moderator'), true);
    assert.equal(allowed('demote', 'moderator', 'moderator'), false);
    assert.equal(allowed('promote', 'moderator', 'participant'), true);
    assert.equal(allowed('promote', 'owner', 'moderator'), false);
    assert.equal(allowed('promote', 'owner', 'owner'), false);
    assert.equal(allowed('settings', 'moderator'), true);
    assert.equal(allowed('end', 'moderator'), true);
  });

  test('the request schemas refuse unknown fields and an owner role', () => {
    const ok = (m: keyof typeof moderationRequestSchemas, d: unknown) =>
      moderationRequestSchemas[m].safeParse(d).success;
    assert.equal(ok('moderation.setRole', { peerId: 'p', role: 'moderator' }), true);
    assert.equal(ok('moderation.setRole', { peerId: 'p', role: 'owner' }), false);
    assert.equal(ok('moderation.mute', { peerId: 'p', extra: 1 }), false);
    assert.equal(ok('moderation.stopVideo', { peerId: 'p', source: 'mic' }), false);
    assert.equal(ok('moderation.settings', { locked: 'yes' }), false);
    assert.equal(ok('moderation.settings', {}), true);
    assert.equal(ok('moderation.remove', { peerId: '' }), false);
  });
});

describe('waiting room', () => {
  test('people wait in arrival order; admitted ones hold a ticket until they join', () => {
    let now = 100;
    const w = new WaitingRoom({ now: () => now++ });
    assert.equal(w.knock('a', 'Ann'), 'added');
    assert.equal(w.knock('b', 'Ben'), 'added');
    assert.equal(w.knock('a', 'Ann 2'), 'updated');
    assert.deepEqual(w.list(), [
      { id: 'a', nickname: 'Ann 2', since: 100 },
      { id: 'b', nickname: 'Ben', since: 101 },
    ]);
    assert.equal(w.admit('a'), true);
    assert.equal(w.admit('a'), false, 'not waiting any more');
    assert.equal(w.isAdmitted('a'), true);
    w.joined('a');
    assert.equal(w.isAdmitted('a'), false, 'the ticket is used up');
    assert.equal(w.deny('b'), true);
    assert.equal(w.isDenied('b'), true);
    assert.equal(w.deny('zz'), false);
    assert.equal(w.size, 0);
  });

  test('a full waiting room refuses more; forget and clear empty it', () => {
    const w = new WaitingRoom({ max: 2 });
    w.knock('a', 'A');
    w.knock('b', 'B');
    assert.equal(w.knock('c', 'C'), 'full');
    assert.equal(w.forget('a'), true);
    assert.equal(w.knock('c', 'C'), 'added');
    w.admit('b');
    assert.deepEqual(
      w.clear().map((p) => p.id),
      ['c'],
    );
    assert.equal(w.isAdmitted('b'), false, 'tickets are void after the meeting ended');
  });
});

describe('room moderation state', () => {
  test('starts from the stored settings, never locked', () => {
    const s = new RoomModerationState({
      waitingRoom: true,
      moderatorsUnmute: false,
      signedInOnly: true,
    });
    assert.deepEqual(s.settings, {
      locked: false,
      waitingRoom: true,
      moderatorsUnmute: false,
      signedInOnly: true,
    });
  });

  test('bars: accounts by account, guests by address', () => {
    const s = new RoomModerationState({
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: false,
    });
    s.bar({ accountId: 'acct', address: '10.0.0.1' });
    assert.equal(s.isBarred({ accountId: 'acct', address: '10.9.9.9' }), true);
    assert.equal(
      s.isBarred({ accountId: null, address: '10.0.0.1' }),
      false,
      'the address of an account is not barred',
    );
    s.bar({ accountId: null, address: '10.0.0.2' });
    assert.equal(s.isBarred({ accountId: null, address: '10.0.0.2' }), true);
    assert.equal(s.isBarred({ accountId: 'other', address: '10.0.0.2' }), false);
  });

  test('a held mic is held only while "moderators unmute" is on, until released or gone', () => {
    const s = new RoomModerationState({
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: false,
    });
    s.holdMic('m');
    assert.equal(s.micHeld('m'), false);
    s.settings = { ...s.settings, moderatorsUnmute: true };
    assert.equal(s.micHeld('m'), true);
    assert.equal(s.releaseMic('m'), true);
    assert.equal(s.micHeld('m'), false);
    s.holdMic('m');
    s.memberLeft('m');
    assert.equal(s.micHeld('m'), false);
  });

  test('moderators are remembered by account (guests are not)', () => {
    const s = new RoomModerationState({
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: false,
    });
    s.rememberModerator('acct', true);
    s.rememberModerator(null, true);
    assert.equal(s.isRememberedModerator('acct'), true);
    assert.equal(s.isRememberedModerator(null), false);
    s.rememberModerator('acct', false);
    assert.equal(s.isRememberedModerator('acct'), false);
  });
});
