import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  enter,
  moderationFixture,
  refusalCode,
  signUp,
} from '../helpers/moderationClients.ts';

// Issue 11, moderation at the room's door over the signaling socket against a real server
// and worker: the lock, the waiting room, passwords and seats for the admitted, signed-in
// only and accounts, and what survives a restart. Roles and actions on people are in
// moderation.test.ts. Refusals carry their code and change nothing.

describe('moderation over the signaling socket: the door', () => {
  const fx = moderationFixture();
  const { people, room, join, meeting, peerUpdate } = fx;

  test('a locked room takes no new joins, but its owner; unlocking opens it again', async () => {
    const { roomId, ownerSecret, owner } = await meeting();
    await owner.client.request('moderation.settings', { locked: true });
    assert.equal(await refusalCode(enter(fx.server, { roomId, nickname: 'Zed' })), 'ROOM_LOCKED');
    const owner2 = await join(fx.server, { roomId, nickname: 'Olga again', ownerSecret });
    assert.equal(owner2.join!.self.role, 'owner');
    assert.equal(owner2.join!.moderation?.settings.locked, true);
    await owner.client.request('moderation.settings', { locked: false });
    await join(fx.server, { roomId, nickname: 'Zed' });
  });
  test('the waiting room: moderators see who waits, admit one (who then joins as usual) and deny another', async () => {
    const { roomId, owner } = await meeting();
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const ann = await connect(fx.server);
    const ben = await connect(fx.server);
    people.push(ann, ben);
    assert.equal(
      await refusalCode(ann.client.request('room.join', { roomId, nickname: 'Ann' })),
      'WAITING',
    );
    let list = await owner.client.nextNotification(
      'moderation.waiting',
      (d) => d.waiting.length === 1,
    );
    assert.equal(list.waiting[0]!.nickname, 'Ann');
    assert.equal(
      await refusalCode(ben.client.request('room.join', { roomId, nickname: 'Ben' })),
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
      await refusalCode(
        owner.client.request('moderation.admit', { waitingId: list.waiting[1]!.id }),
      ),
      'NOT_FOUND',
    );

    const joined = await ann.client.request('room.join', { roomId, nickname: 'Ann' });
    assert.equal(joined.self.role, 'participant');
    assert.deepEqual(joined.moderation?.waiting, [], 'participants do not see the list');
    assert.equal(
      await refusalCode(ben.client.request('room.join', { roomId, nickname: 'Ben' })),
      'FORBIDDEN',
    );
    // Ann's ticket was used up: after leaving she waits again.
    await ann.client.request('room.leave', {});
    assert.equal(
      await refusalCode(ann.client.request('room.join', { roomId, nickname: 'Ann' })),
      'WAITING',
    );
    // Leaving the waiting room (room.leave) or disconnecting takes one off the list.
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);
    await ann.client.request('room.leave', {});
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 0);
    const cy = await connect(fx.server);
    assert.equal(
      await refusalCode(cy.client.request('room.join', { roomId, nickname: 'Cy' })),
      'WAITING',
    );
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 1);
    cy.client.close();
    await owner.client.nextNotification('moderation.waiting', (d) => d.waiting.length === 0);
    // Turning the waiting room off lets whoever waits in.
    const dee = await connect(fx.server);
    people.push(dee);
    assert.equal(
      await refusalCode(dee.client.request('room.join', { roomId, nickname: 'Dee' })),
      'WAITING',
    );
    await owner.client.request('moderation.settings', { waitingRoom: false });
    await dee.client.nextNotification('moderation.admitted');
    await dee.client.request('room.join', { roomId, nickname: 'Dee' });
  });
  test('admitted people still need the password, and the room must have a free seat', async () => {
    const c = await connect(fx.server);
    people.push(c);
    const made = await c.client.request('room.create', {
      name: 'Guarded',
      password: 'sesame',
      capacity: 2,
    });
    const roomId = made.room.id;
    const owner = await join(fx.server, {
      roomId,
      nickname: 'Olga',
      ownerSecret: made.ownerSecret,
      password: 'sesame',
    });
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const eve = await connect(fx.server);
    const fay = await connect(fx.server);
    const gus = await connect(fx.server);
    people.push(eve, fay, gus);
    for (const [p, nick] of [
      [eve, 'Eve'],
      [fay, 'Fay'],
      [gus, 'Gus'],
    ] as const) {
      assert.equal(
        await refusalCode(p.client.request('room.join', { roomId, nickname: nick })),
        'WAITING',
      );
    }
    const { waiting } = await owner.client.nextNotification(
      'moderation.waiting',
      (d) => d.waiting.length === 3,
    );
    for (const w of waiting) await owner.client.request('moderation.admit', { waitingId: w.id });
    assert.equal(
      await refusalCode(eve.client.request('room.join', { roomId, nickname: 'Eve' })),
      'BAD_PASSWORD',
    );
    await eve.client.request('room.join', { roomId, nickname: 'Eve', password: 'sesame' });
    assert.equal(
      await refusalCode(
        fay.client.request('room.join', { roomId, nickname: 'Fay', password: 'sesame' }),
      ),
      'ROOM_FULL',
    );
  });
  test("a signed-in user's room is owned by the account; nicknames default to the account name; signed-in only refuses guests", async () => {
    const cookie = await signUp(fx.server, 'Kim');
    const creator = await connect(fx.server, { cookie });
    people.push(creator);
    const made = await creator.client.request('room.create', { name: `Kim's room ${fx.unique()}` });
    const roomId = made.room.id;
    // Another connection of the same account, without the owner secret, without a nickname.
    const kim = await join(fx.server, { roomId }, { cookie });
    assert.equal(kim.join!.self.role, 'owner');
    assert.equal(kim.join!.self.nickname, 'Kim');
    assert.equal(
      await refusalCode(enter(fx.server, { roomId } as never)),
      'INVALID_REQUEST',
      'guests need a nickname',
    );

    await kim.client.request('moderation.settings', { signedInOnly: true });
    assert.equal(
      await refusalCode(enter(fx.server, { roomId, nickname: 'Guest' })),
      'SIGN_IN_REQUIRED',
    );
    const lee = await join(fx.server, { roomId }, { cookie: await signUp(fx.server, 'Lee') });
    assert.equal(lee.join!.self.role, 'participant');

    // Moderators are remembered by account: Lee comes back a moderator.
    await kim.client.request('moderation.setRole', { peerId: lee.id, role: 'moderator' });
    await peerUpdate(kim, lee.id, (p) => p.role === 'moderator');
    await lee.client.request('room.leave', {});
    const back = await lee.client.request('room.join', { roomId });
    assert.equal(back.self.role, 'moderator');

    // A bar on an account keeps that account out, whatever the address.
    const mia = await join(
      fx.server,
      { roomId },
      { cookie: await signUp(fx.server, 'Mia'), address: '10.2.0.1' },
    );
    await kim.client.request('moderation.remove', { peerId: mia.id, ban: true });
    await mia.client.nextNotification('moderation.removed');
    assert.equal(await refusalCode(mia.client.request('room.join', { roomId })), 'BANNED');
    await join(
      fx.server,
      { roomId },
      { cookie: await signUp(fx.server, 'Ned'), address: '10.2.0.1' },
    );

    // Over HTTP too: POST /api/rooms with the session cookie makes an account's room.
    const res = await fetch(`${fx.server.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: `Kim's HTTP room ${fx.unique()}` }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 201);
    const httpRoom = ((await res.json()) as { room: { id: string } }).room.id;
    const viaHttp = await join(fx.server, { roomId: httpRoom }, { cookie });
    assert.equal(viaHttp.join!.self.role, 'owner');
    const guestRoom = await room();
    const kimInGuestRoom = await join(fx.server, { roomId: guestRoom.roomId }, { cookie });
    assert.equal(kimInGuestRoom.join!.self.role, 'participant');

    // The account and the settings are in the store (they survive a restart).
    const [stored] = (await fx.server.app.tutti.stores.rooms.list()).filter((r) => r.id === roomId);
    assert.ok(stored?.ownerAccountId, 'owned by an account');
    assert.deepEqual(stored?.settings, {
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: true,
    });
  });
  test('the stored settings and the owner account survive a restart (the lock does not)', async () => {
    const cookie = await signUp(fx.server, 'Rae');
    const rae = await connect(fx.server, { cookie });
    const made = await rae.client.request('room.create', { name: `Rae's room ${fx.unique()}` });
    const roomId = made.room.id;
    const owner = await join(fx.server, { roomId }, { cookie });
    await owner.client.request('moderation.settings', {
      signedInOnly: true,
      moderatorsUnmute: true,
      locked: true,
    });
    rae.client.close();
    for (const p of people.splice(0)) p.client.close();
    await fx.server.restart();
    assert.equal(
      await refusalCode(enter(fx.server, { roomId, nickname: 'Guest' })),
      'SIGN_IN_REQUIRED',
    );
    const back = await join(fx.server, { roomId }, { cookie });
    assert.equal(back.join!.self.role, 'owner');
    assert.deepEqual(back.join!.moderation?.settings, {
      locked: false,
      waitingRoom: false,
      moderatorsUnmute: true,
      signedInOnly: true,
    });
  });
});
