import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  moderationFixture,
  refusalCode,
  type Person,
} from '../helpers/moderationClients.ts';

// Issue 11, moderation over the signaling socket against a real server and worker: roles
// and what owners and moderators do to people (mute, stop video, remove, end, hands). The
// door (lock, waiting room, signed-in only, what is stored) is moderation.door.test.ts.
// Every rule is checked from the server's side: refusals carry their code and change nothing.

describe('moderation over the signaling socket: roles and actions on people', () => {
  const fx = moderationFixture();
  const { people, room, join, meeting, peerUpdate } = fx;

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
    const guess = await join(fx.server, { roomId, nickname: 'Guess', ownerSecret: 'x'.repeat(32) });
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
    for (const [what, p] of attempts) assert.equal(await refusalCode(p()), 'FORBIDDEN', what);
    // Nothing changed: everyone is still there, as they were.
    const { peers } = await join(fx.server, { roomId, nickname: 'Late' }).then((p) => p.join!);
    assert.deepEqual(peers.map((p) => [p.nickname, p.role]).sort(), [
      ['Guess', 'participant'],
      ['Olga', 'owner'],
      ['Pat', 'participant'],
      ['Quin', 'participant'],
    ]);
    // Outside a room: NOT_JOINED.
    const outsider = await connect(fx.server);
    people.push(outsider);
    assert.equal(await refusalCode(outsider.client.request('moderation.end', {})), 'NOT_JOINED');
  });
  test('the owner makes a moderator; the moderator mutes someone: paused on the server, everyone sees it, they may unmute', async () => {
    const { owner, others } = await meeting('Mo', 'Pia', 'Rex');
    const [mo, pia, rex] = others as [Person, Person, Person];
    await owner.client.request('moderation.setRole', { peerId: mo.id, role: 'moderator' });
    await peerUpdate(rex, mo.id, (p) => p.role === 'moderator');
    await mo.client.nextNotification('moderation.waiting'); // A new moderator gets the list.
    assert.equal(
      await refusalCode(
        owner.client.request('moderation.setRole', { peerId: mo.id, role: 'moderator' }),
      ),
      'FORBIDDEN',
      'already a moderator',
    );
    // A moderator may not touch the owner, nor remove or demote a fellow moderator.
    assert.equal(
      await refusalCode(mo.client.request('moderation.mute', { peerId: owner.id })),
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
    assert.equal(
      await refusalCode(mo.client.request('moderation.mute', { peerId: pia.id })),
      'FORBIDDEN',
    );
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
      await refusalCode(una.client.request('media.resumeProducer', { producerId: mic })),
      'FORBIDDEN',
    );
    await una.client.request('media.closeProducer', { producerId: mic });
    assert.equal(await refusalCode(una.produce('mic')), 'FORBIDDEN', 'a new open mic');
    const pausedMic = await una.produce('mic', true); // A paused one is fine.
    assert.equal(
      await refusalCode(una.client.request('media.resumeProducer', { producerId: pausedMic })),
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
    const xia = await join(fx.server, { roomId, nickname: 'Xavier' }, { address: '10.1.1.1' });
    await owner.client.request('moderation.remove', { peerId: wes.id });
    assert.deepEqual(await wes.client.nextNotification('moderation.removed'), {
      by: 'Olga',
      banned: false,
    });
    const left = await owner.client.nextNotification('room.peerLeft', (d) => d.peerId === wes.id);
    assert.equal(left.nickname, 'Wes');
    assert.equal(wes.client.closed, false, 'back in the lobby');
    assert.equal(
      await refusalCode(wes.client.request('media.getRouterRtpCapabilities', {})),
      'NOT_JOINED',
    );
    // Not barred: back in.
    await wes.client.request('room.join', { roomId, nickname: 'Wes' });

    assert.equal(
      await refusalCode(owner.client.request('moderation.remove', { peerId: owner.id })),
      'FORBIDDEN',
    );
    await owner.client.request('moderation.remove', { peerId: xia.id, ban: true });
    assert.deepEqual(await xia.client.nextNotification('moderation.removed'), {
      by: 'Olga',
      banned: true,
    });
    assert.equal(
      await refusalCode(xia.client.request('room.join', { roomId, nickname: 'X' })),
      'BANNED',
    );
    const again = connect(fx.server, { address: '10.1.1.1' }).then((p) => (people.push(p), p));
    assert.equal(
      await refusalCode((await again).client.request('room.join', { roomId, nickname: 'X2' })),
      'BANNED',
    );
    // Someone else (another address) still gets in; the bar is for this room only.
    await join(fx.server, { roomId, nickname: 'Yan' }, { address: '10.1.1.2' });
    const other = await room();
    await join(fx.server, { roomId: other.roomId, nickname: 'X3' }, { address: '10.1.1.1' });
  });
  test('ending the meeting tells everyone and empties the room, which stays', async () => {
    const { roomId, owner, others } = await meeting('Hal', 'Ida');
    await owner.client.request('moderation.settings', { waitingRoom: true });
    const jo = await connect(fx.server);
    people.push(jo);
    assert.equal(
      await refusalCode(jo.client.request('room.join', { roomId, nickname: 'Jo' })),
      'WAITING',
    );
    await owner.client.request('moderation.end', {});
    for (const p of [owner, ...others, jo]) {
      assert.deepEqual(await p.client.nextNotification('moderation.ended'), { by: 'Olga' });
    }
    const res = await fetch(`${fx.server.url}/api/rooms/${roomId}`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(((await res.json()) as { room: { peers: number } }).room.peers, 0);
    assert.equal(
      await refusalCode(others[0]!.client.request('media.getRouterRtpCapabilities', {})),
      'NOT_JOINED',
    );
  });
  test('owners and moderators lower others’ raised hands (room life)', async () => {
    const { owner, others } = await meeting('Ola', 'Pam');
    const [ola, pam] = others as [Person, Person];
    await pam.client.request('hand.raise', {});
    assert.equal(
      await refusalCode(ola.client.request('hand.lower', { peerId: pam.id })),
      'FORBIDDEN',
    );
    const { queue } = await owner.client.request('hand.lower', { peerId: pam.id });
    assert.deepEqual(queue, []);
  });
});
