import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, TuttiError, type Role } from '@tutti/protocol';
import { moderationRequestSchemas } from '@tutti/protocol/schemas';
import { authorize, isModerator, type ModerationAction } from '../../src/moderation/roles.ts';
import { RoomModerationState } from '../../src/moderation/roomState.ts';
import { MemoryModerationState } from '../../src/moderation/sharedState.ts';
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

  test('bars (shared state): accounts by account, guests by address', async () => {
    const s = new MemoryModerationState();
    const barred = async (accountId: string | null, address: string) =>
      (await s.door('r', { accountId, address })).barred;
    await s.bar('r', { accountId: 'acct', address: '10.0.0.1' });
    assert.equal(await barred('acct', '10.9.9.9'), true);
    assert.equal(await barred(null, '10.0.0.1'), false, 'the address of an account is not barred');
    await s.bar('r', { accountId: null, address: '10.0.0.2' });
    assert.equal(await barred(null, '10.0.0.2'), true);
    assert.equal(await barred('other', '10.0.0.2'), false);
    const elsewhere = await s.door('other-room', { accountId: null, address: '10.0.0.2' });
    assert.equal(elsewhere.barred, false, 'a bar is for one room');
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

  test('moderators are remembered by account (shared state)', async () => {
    const s = new MemoryModerationState();
    const remembered = async (accountId: string | null) =>
      (await s.door('r', { accountId, address: '10.0.0.1' })).rememberedModerator;
    await s.rememberModerator('r', 'acct', true);
    assert.equal(await remembered('acct'), true);
    assert.equal(await remembered(null), false);
    await s.rememberModerator('r', 'acct', false);
    assert.equal(await remembered('acct'), false);
  });

  test('shared settings: a change sets its own fields only; unset ones come from the base', async () => {
    const s = new MemoryModerationState();
    const base = { locked: false, waitingRoom: true, moderatorsUnmute: false, signedInOnly: false };
    assert.equal(await s.settings('r'), null);
    await s.changeSettings('r', base, { locked: true });
    const now = await s.changeSettings(
      'r',
      { ...base, waitingRoom: false },
      { signedInOnly: true },
    );
    assert.deepEqual(now, {
      locked: true,
      waitingRoom: true,
      moderatorsUnmute: false,
      signedInOnly: true,
    });
  });

  test('the shared waiting list: in order, one place per connection, at most max', async () => {
    const s = new MemoryModerationState();
    const entry = (id: string, since: number) => ({ id, nickname: id, since, nodeId: 'n1' });
    assert.equal(await s.knock('r', entry('b', 2), 2), 'added');
    assert.equal(await s.knock('r', entry('a', 1), 2), 'added');
    assert.equal(await s.knock('r', entry('c', 3), 2), 'full');
    assert.equal(await s.knock('r', { ...entry('b', 9), nickname: 'Bee' }, 2), 'updated');
    assert.deepEqual(
      (await s.waiting('r')).map((e) => [e.id, e.nickname, e.since]),
      [
        ['a', 'a', 1],
        ['b', 'Bee', 2],
      ],
    );
    await s.unknock('r', ['a']);
    assert.deepEqual(
      (await s.waiting('r')).map((e) => e.id),
      ['b'],
    );
    await s.forget('r');
    assert.deepEqual(await s.waiting('r'), []);
  });
});
