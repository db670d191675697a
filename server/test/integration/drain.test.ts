import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer } from '../../../test/helpers/startServer.ts';

test('a join already past the gate when the drain begins is answered, then told to move', async () => {
  const s = await startTestServer({ server: { drainGraceSeconds: 20 } });
  const owner = await connectSignaling(s.wsUrl);
  const late = await connectSignaling(s.wsUrl);
  try {
    const { room } = await owner.request('room.create', { name: 'Gate', password: 'pw' });
    // The password check (scrypt) and the first router keep the join in flight a while.
    const joining = late.request('room.join', {
      roomId: room.id,
      nickname: 'late',
      password: 'pw',
    });
    const deadline = Date.now() + 5000;
    while (s.app.tutti.rooms.get(room.id)?.pendingJoins !== 1 && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(s.app.tutti.rooms.get(room.id)?.pendingJoins, 1, 'the join is in flight');
    const drained = s.app.tutti.drain.begin();
    assert.equal(s.app.tutti.drain.peers, 1, 'a join in flight counts as a peer');

    assert.equal((await joining).self.nickname, 'late');
    const notice = await late.nextNotification('server.draining', undefined, 3000);
    assert.equal(notice.reconnectAfterMs, 5000);
    late.close();
    assert.equal(await drained, 'empty');
  } finally {
    owner.close();
    late.close();
    await s.stop();
  }
});
