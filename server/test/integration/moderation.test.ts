import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeOf, type PeerInfo } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { TEST_AUTH } from '../helpers/authApp.ts';
import { connect, enter, signUp, type Person } from '../helpers/moderationClients.ts';

// Issue 11, moderation and the waiting room, over the signaling socket against a real
// server and worker. Every rule is checked from the server's side: refusals carry their
// code and change nothing.

const code = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    return errorCodeOf(err);
  }
  assert.fail('expected a refusal');
};

describe('moderation over the signaling socket', () => {
  let server: TestServer;
  const people: Person[] = [];
  let n = 0;
  /** A fresh room made by a guest: its id and owner secret. */
  const room = async (name = `Room ${++n}`) => {
    const c = await connect(server);
    people.push(c);
    const r = await c.client.request('room.create', { name });
    return { roomId: r.room.id, ownerSecret: r.ownerSecret };
  };
  const join = async (...args: Parameters<typeof enter>) => {
    const p = await enter(...args);
    people.push(p);
    return p;
  };
  /** Joins as the owner (owner secret) and as participants. */
  const meeting = async (...names: string[]) => {
    const { roomId, ownerSecret } = await room();
    const owner = await join(server, { roomId, nickname: 'Olga', ownerSecret });
    const others = [];
    for (const nickname of names) others.push(await join(server, { roomId, nickname }));
    return { roomId, ownerSecret, owner, others };
  };
  const peerUpdate = (p: Person, id: string, pred: (peer: PeerInfo) => boolean) =>
    p.client.nextNotification('room.peerUpdated', ({ peer }) => peer.id === id && pred(peer));

  before(async () => {
    server = await startTestServer({
      auth: TEST_AUTH,
      server: { trustProxy: '127.0.0.1', roomCreatesPerMinute: 1000 },
      signaling: { requestsPerSecond: 500, requestBurst: 500 },
    });
  });
  after(async () => {
    for (const p of people) p.client.close();
    await server?.stop();
  });

  test('the creator holding the owner secret is owner; roles are visible; a participant is refused everything', async () => {
    const { roomId, owner, others } = await meeting('Pat', 'Quin');
    const [pat, quin] = others as [Person, Person];
    assert.equal(owner.join!.self.role, 'owner');
    assert.equal(pat.join!.self.role, 'participant');
    const seen = new Map(quin.join!.peers.map((p) => [p.nickname, p.role]));
    assert.deepEqual(Object.fromEntries(seen), { Olga: 'owner', Pat: 'participant' });
    assert.deepEqual(pat.join!.moderation, {
      settings: { locked: false, waitingRoom: false, moderatorsUnmute: false, signedInOnly: false },
      waiting: [],
    });
    // A wrong owner secret is just a participant.
    const guess = await join(server, { roomId, nickname: 'Guess', ownerSecret: 'x'.repeat(32) });
    assert.equal(guess.join!.self.role, 'participant');

    const attempts: [string, () => Promise<unknown>][] = [
      [
        'setRole',
        () => pat.client.request('moderation.setRole', { peerId: quin.id, role: 'moderator' }),
      ],
      ['mute', () => pat.client.request('moderation.mute', { peerId: owner.id })],
      ['allowUnmute', () => pat.client.request('moderation.allowUnmute', { peerId: quin.id })],
      [
        'stopVideo',
        () => pat.client.request('moderation.stopVideo', { peerId: quin.id, source: 'camera' }),
      ],
      ['remove', () => pat.client.request('moderation.remove', { peerId: quin.id, ban: true })],
      ['settings', () => pat.client.request('moderation.settings', { locked: true })],
      ['end', () => pat.client.request('moderation.end', {})],
      ['admit', () => pat.client.request('moderation.admit', { waitingId: quin.id })],
      ['deny', () => pat.client.request('moderation.deny', { waitingId: quin.id })],
      ['unknown target', () => pat.client.request('moderation.mute', { peerId: 'nobody' })],
    ];
    for (const [what, p] of attempts) assert.equal(await code(p()), 'FORBIDDEN', what);
    // Nothing changed: everyone is still there, as they were.
    const { peers } = await join(server, { roomId, nickname: 'Late' }).then((p) => p.join!);
    assert.deepEqual(peers.map((p) => [p.nickname, p.role]).sort(), [
      ['Guess', 'participant'],
      ['Olga', 'owner'],
      ['Pat', 'participant'],
      ['Quin', 'participant'],
    ]);
    // Outside a room: NOT_JOINED.
    const outsider = await connect(server);
    people.push(outsider);
    assert.equal(await code(outsider.client.request('moderation.end', {})), 'NOT_JOINED');
  });

  test('the owner makes a moderator; the moderator mutes someone: paused on the server, everyone sees it, they may unmute', async () => {
    const { owner, others } = await meeting('Mo', 'Pia', 'Rex');
    const [mo, pia, rex] = others as [Person, Person, Person];
    await owner.client.request('moderation.setRole', { peerId: mo.id, role: 'moderator' });
    await peerUpdate(rex, mo.id, (p) => p.role === 'moderator');
    await mo.client.nextNotification('moderation.waiting'); // A new moderator gets the list.
    assert.equal(
      await code(owner.client.request('moderation.setRole', { peerId: mo.id, role: 'moderator' })),
      'FORBIDDEN',
      'already a moderator',
    );
    // A moderator may not touch the owner, nor remove or demote a fellow moderator.
    assert.equal(
      await code(mo.client.request('moderation.mute', { peerId: owner.id })),
      'FORBIDDEN',
    );

    const mic = await pia.produce('mic');
    await peerUpdate(rex, pia.id, (p) => p.mic === 'on');
    await mo.client.request('moderation.mute', { peerId: pia.id });
    await peerUpdate(rex, pia.id, (p) => p.mic === 'off');
    const told = await pia.client.nextNotification('moderation.muted');
    assert.deepEqual(told, { by: 'Mo', canUnmute: true });
    const stats = await pia.client.request('media.getStats', { kind: 'producer', id: mic });
    assert.ok(Array.isArray(stats.stats));
    // "Moderators unmute" is off: she may unmute herself.
    await pia.client.request('media.resumeProducer', { producerId: mic });
    await peerUpdate(rex, pia.id, (p) => p.mic === 'on');

    // The owner demotes the moderator, who can no longer mute.
    await owner.client.request('moderation.setRole', { peerId: mo.id, role: 'participant' });
    await peerUpdate(rex, mo.id, (p) => p.role === 'participant');
    assert.equal(await code(mo.client.request('moderation.mute', { peerId: pia.id })), 'FORBIDDEN');
  });

  test('with "moderators unmute" on, a muted person cannot resume or produce an open mic until allowed', async () => {
    const { owner, others } = await meeting('Una');
    const [una] = others as [Person];
    const { settings } = await owner.client.request('moderation.settings', {
      moderatorsUnmute: true,
    });
    assert.equal(settings.moderatorsUnmute, true);
    assert.equal(
      (await una.client.nextNotification('moderation.settings')).settings.moderatorsUnmute,
      true,
    );
    const mic = await una.produce('mic');
    await owner.client.request('moderation.mute', { peerId: una.id });
    assert.deepEqual(await una.client.nextNotification('moderation.muted'), {
      by: 'Olga',
      canUnmute: false,
    });
    assert.equal(
      await code(una.client.request('media.resumeProducer', { producerId: mic })),
      'FORBIDDEN',
    );
    await una.client.request('media.closeProducer', { producerId: mic });
    assert.equal(await code(una.produce('mic')), 'FORBIDDEN', 'a new open mic');
    const pausedMic = await una.produce('mic', true); // A paused one is fine.
    assert.equal(
      await code(una.client.request('media.resumeProducer', { producerId: pausedMic })),
      'FORBIDDEN',
    );
    await owner.client.request('moderation.allowUnmute', { peerId: una.id });
    assert.equal((await una.client.nextNotification('moderation.unmuteAllowed')).by, 'Olga');
    await una.client.request('media.resumeProducer', { producerId: pausedMic });
    await peerUpdate(owner, una.id, (p) => p.mic === 'on');

    // Held again, then made a moderator: moderators are never held.
    await owner.client.request('moderation.mute', { peerId: una.id });
    await peerUpdate(owner, una.id, (p) => p.mic === 'off');
    await owner.client.request('moderation.setRole', { peerId: una.id, role: 'moderator' });
    await una.client.request('media.resumeProducer', { producerId: pausedMic });
    await peerUpdate(owner, una.id, (p) => p.mic === 'on');
  });

  test("stopping someone's camera or screen share closes those producers for everyone", async () => {
    const { owner, others } = await meeting('Vic');
    const [vic] = others as [Person];
    await vic.produce('camera');
    await vic.produce('screen');
    await vic.produce('screen-audio');
    await vic.produce('mic');
    await peerUpdate(owner, vic.id, (p) => p.camera === 'on' && p.screen);
    await owner.client.request('moderation.stopVideo', { peerId: vic.id, source: 'camera' });
    await peerUpdate(owner, vic.id, (p) => p.camera === 'none' && p.screen);
    assert.deepEqual(await vic.client.nextNotification('moderation.videoStopped'), {
      by: 'Olga',
      source: 'camera',
    });
    await owner.client.request('moderation.stopVideo', { peerId: vic.id, source: 'screen' });
    await peerUpdate(owner, vic.id, (p) => !p.screen && p.mic === 'on');
    // They may start the camera again (only the mic can be held).
    await vic.produce('camera');
    await peerUpdate(owner, vic.id, (p) => p.camera === 'on');
  });

  test('removing someone takes them out (told first, socket kept); a bar keeps them out, by address for guests', async () => {
    const { roomId, owner, others } = await meeting('Wes', 'Xia');
    const wes = others[0]!;
    const xia = await join(server, { roomId, nickname: 'Xavier' }, { address: '10.1.1.1' });
    await owner.client.request('moderation.remove', { peerId: wes.id });
    assert.deepEqual(await wes.client.nextNotification('moderation.removed'), {
      by: 'Olga',
      banned: false,
    });
    const left = await owner.client.nextNotification('room.peerLeft', (d) => d.peerId === wes.id);
    assert.equal(left.nickname, 'Wes');
    assert.equal(wes.client.closed, false, 'back in the lobby');
    assert.equal(
      await code(wes.client.request('media.getRouterRtpCapabilities', {})),
      'NOT_JOINED',
    );
    // Not barred: back in.
    await wes.client.request('room.join', { roomId, nickname: 'Wes' });

    assert.equal(
      await code(owner.client.request('moderation.remove', { peerId: owner.id })),
      'FORBIDDEN',
    );
    await owner.client.request('moderation.remove', { peerId: xia.id, ban: true });
    assert.deepEqual(await xia.client.nextNotification('moderation.removed'), {
      by: 'Olga',
      banned: true,
    });
    assert.equal(await code(xia.client.request('room.join', { roomId, nickname: 'X' })), 'BANNED');
    const again = connect(server, { address: '10.1.1.1' }).then((p) => (people.push(p), p));
    assert.equal(
      await code((await again).client.request('room.join', { roomId, nickname: 'X2' })),
      'BANNED',
    );
    // Someone else (another address) still gets in; the bar is for this room only.
    await join(server, { roomId, nickname: 'Yan' }, { address: '10.1.1.2' });
    const other = await room();
    await join(server, { roomId: other.roomId, nickname: 'X3' }, { address: '10.1.1.1' });
  });

  test('a locked room takes no new joins, but its owner; unlocking opens it again', async () => {
    const { roomId, ownerSecret, owner } = await meeting();
    await owner.client.request('moderation.settings', { locked: true });
    assert.equal(await code(enter(server, { roomId, nickname: 'Zed' })), 'ROOM_LOCKED');
    const owner2 = await join(server, { roomId, nickname: 'Olga again', ownerSecret });
    assert.equal(owner2.join!.self.role, 'owner');
    assert.equal(owner2.join!.moderation?.settings.locked, true);
    await owner.client.request('moderation.settings', { locked: false });
    await join(server, { roomId, nickname: 'Zed' });
  });

  test('the waiting room: moderators see who waits, admit one (who then joins as usual) and deny another', async () => {
    const { roomId, owner } = await meeting();
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const ann = await connect(server);
    const ben = await connect(server);
    people.push(ann, ben);
    assert.equal(
      await code(ann.client.request('room.join', { roomId, nickname: 'Ann' })),
      'WAITING',
    );
    let list = await owner.client.nextNotification(
      'moderation.waiting',
      (d) => d.waiting.length === 1,
    );
    assert.equal(list.waiting[0]!.nickname, 'Ann');
    assert.equal(
      await code(ben.client.request('room.join', { roomId, nickname: 'Ben' })),
      'WAITING',
    );
    list = await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 2);
    assert.deepEqual(
      list.waiting.map((w) => w.nickname),
      ['Ann', 'Ben'],
    );
    await owner.client.request('moderation.admit', { waitingId: list.waiting[0]!.id });
    assert.deepEqual(await ann.client.nextNotification('moderation.admitted'), { roomId });
    await owner.client.request('moderation.deny', { waitingId: list.waiting[1]!.id });
    assert.deepEqual(await ben.client.nextNotification('moderation.denied'), { roomId });
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 0);
    assert.equal(
      await code(owner.client.request('moderation.admit', { waitingId: list.waiting[1]!.id })),
      'NOT_FOUND',
    );

    const joined = await ann.client.request('room.join', { roomId, nickname: 'Ann' });
    assert.equal(joined.self.role, 'participant');
    assert.deepEqual(joined.moderation?.waiting, [], 'participants do not see the list');
    assert.equal(
      await code(ben.client.request('room.join', { roomId, nickname: 'Ben' })),
      'FORBIDDEN',
    );
    // Ann's ticket was used up: after leaving she waits again.
    await ann.client.request('room.leave', {});
    assert.equal(
      await code(ann.client.request('room.join', { roomId, nickname: 'Ann' })),
      'WAITING',
    );
    // Leaving the waiting room (room.leave) or disconnecting takes one off the list.
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);
    await ann.client.request('room.leave', {});
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 0);
    const cy = await connect(server);
    assert.equal(await code(cy.client.request('room.join', { roomId, nickname: 'Cy' })), 'WAITING');
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);
    cy.client.close();
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 0);
    // Turning the waiting room off lets whoever waits in.
    const dee = await connect(server);
    people.push(dee);
    assert.equal(
      await code(dee.client.request('room.join', { roomId, nickname: 'Dee' })),
      'WAITING',
    );
    await owner.client.request('moderation.settings', { waitingRoom: false });
    await dee.client.nextNotification('moderation.admitted');
    await dee.client.request('room.join', { roomId, nickname: 'Dee' });
  });

  test('admitted people still need the password, and the room must have a free seat', async () => {
    const c = await connect(server);
    people.push(c);
    const made = await c.client.request('room.create', {
      name: 'Guarded',
      password: 'sesame',
      capacity: 2,
    });
    const roomId = made.room.id;
    const owner = await join(server, {
      roomId,
      nickname: 'Olga',
      ownerSecret: made.ownerSecret,
      password: 'sesame',
    });
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const eve = await connect(server);
    const fay = await connect(server);
    const gus = await connect(server);
    people.push(eve, fay, gus);
    for (const [p, nick] of [
      [eve, 'Eve'],
      [fay, 'Fay'],
      [gus, 'Gus'],
    ] as const) {
      assert.equal(
        await code(p.client.request('room.join', { roomId, nickname: nick })),
        'WAITING',
      );
    }
    const { waiting } = await owner.client.nextNotification(
      'moderation.waiting',
      (d) => d.waiting.length === 3,
    );
    for (const w of waiting) await owner.client.request('moderation.admit', { waitingId: w.id });
    assert.equal(
      await code(eve.client.request('room.join', { roomId, nickname: 'Eve' })),
      'BAD_PASSWORD',
    );
    await eve.client.request('room.join', { roomId, nickname: 'Eve', password: 'sesame' });
    assert.equal(
      await code(fay.client.request('room.join', { roomId, nickname: 'Fay', password: 'sesame' })),
      'ROOM_FULL',
    );
  });

  test('ending the meeting tells everyone and empties the room, which stays', async () => {
    const { roomId, owner, others } = await meeting('Hal', 'Ida');
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const jo = await connect(server);
    people.push(jo);
    assert.equal(await code(jo.client.request('room.join', { roomId, nickname: 'Jo' })), 'WAITING');
    await owner.client.request('moderation.end', {});
    for (const p of [owner, ...others, jo]) {
      assert.deepEqual(await p.client.nextNotification('moderation.ended'), { by: 'Olga' });
    }
    const res = await fetch(`${server.url}/api/rooms/${roomId}`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(((await res.json()) as { room: { peers: number } }).room.peers, 0);
    assert.equal(
      await code(others[0]!.client.request('media.getRouterRtpCapabilities', {})),
      'NOT_JOINED',
    );
  });

  test("a signed-in user's room is owned by the account; nicknames default to the account name; signed-in only refuses guests", async () => {
    const cookie = await signUp(server, 'Kim');
    const creator = await connect(server, { cookie });
    people.push(creator);
    const made = await creator.client.request('room.create', { name: `Kim's room ${++n}` });
    const roomId = made.room.id;
    // Another connection of the same account, without the owner secret, without a nickname.
    const kim = await join(server, { roomId }, { cookie });
    assert.equal(kim.join!.self.role, 'owner');
    assert.equal(kim.join!.self.nickname, 'Kim');
    assert.equal(
      await code(enter(server, { roomId } as never)),
      'INVALID_REQUEST',
      'guests need a nickname',
    );

    await kim.client.request('moderation.settings', { signedInOnly: true });
    assert.equal(await code(enter(server, { roomId, nickname: 'Guest' })), 'SIGN_IN_REQUIRED');
    const lee = await join(server, { roomId }, { cookie: await signUp(server, 'Lee') });
    assert.equal(lee.join!.self.role, 'participant');

    // Moderators are remembered by account: Lee comes back a moderator.
    await kim.client.request('moderation.setRole', { peerId: lee.id, role: 'moderator' });
    await peerUpdate(kim, lee.id, (p) => p.role === 'moderator');
    await lee.client.request('room.leave', {});
    const back = await lee.client.request('room.join', { roomId });
    assert.equal(back.self.role, 'moderator');

    // A bar on an account keeps that account out, whatever the address.
    const mia = await join(
      server,
      { roomId },
      { cookie: await signUp(server, 'Mia'), address: '10.2.0.1' },
    );
    await kim.client.request('moderation.remove', { peerId: mia.id, ban: true });
    await mia.client.nextNotification('moderation.removed');
    assert.equal(await code(mia.client.request('room.join', { roomId })), 'BANNED');
    await join(server, { roomId }, { cookie: await signUp(server, 'Ned'), address: '10.2.0.1' });

    // Over HTTP too: POST /api/rooms with the session cookie makes an account's room.
    const res = await fetch(`${server.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: `Kim's HTTP room ${++n}` }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 201);
    const httpRoom = ((await res.json()) as { room: { id: string } }).room.id;
    const viaHttp = await join(server, { roomId: httpRoom }, { cookie });
    assert.equal(viaHttp.join!.self.role, 'owner');
    const guestRoom = await room();
    const kimInGuestRoom = await join(server, { roomId: guestRoom.roomId }, { cookie });
    assert.equal(kimInGuestRoom.join!.self.role, 'participant');

    // The account and the settings are in the store (they survive a restart).
    const [stored] = (await server.app.tutti.stores.rooms.list()).filter((r) => r.id === roomId);
    assert.ok(stored?.ownerAccountId, 'owned by an account');
    assert.deepEqual(stored?.settings, {
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: true,
    });
  });

  test('the stored settings and the owner account survive a restart (the lock does not)', async () => {
    const cookie = await signUp(server, 'Rae');
    const rae = await connect(server, { cookie });
    const made = await rae.client.request('room.create', { name: `Rae's room ${++n}` });
    const roomId = made.room.id;
    const owner = await join(server, { roomId }, { cookie });
    await owner.client.request('moderation.settings', {
      signedInOnly: true,
      moderatorsUnmute: true,
      locked: true,
    });
    rae.client.close();
    for (const p of people.splice(0)) p.client.close();
    await server.restart();
    assert.equal(await code(enter(server, { roomId, nickname: 'Guest' })), 'SIGN_IN_REQUIRED');
    const back = await join(server, { roomId }, { cookie });
    assert.equal(back.join!.self.role, 'owner');
    assert.deepEqual(back.join!.moderation?.settings, {
      locked: false,
      waitingRoom: false,
      moderatorsUnmute: true,
      signedInOnly: true,
    });
  });

  test('owners and moderators lower others’ raised hands (room life)', async () => {
    const { owner, others } = await meeting('Ola', 'Pam');
    const [ola, pam] = others as [Person, Person];
    await pam.client.request('hand.raise', {});
    assert.equal(await code(ola.client.request('hand.lower', { peerId: pam.id })), 'FORBIDDEN');
    const { queue } = await owner.client.request('hand.lower', { peerId: pam.id });
    assert.deepEqual(queue, []);
  });
});
