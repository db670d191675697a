import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifeSaver } from '../../src/games/lifeSaver.ts';
import type { LifeSaveOutcome } from '../../src/games/remote.ts';
import { RoomLife } from '../../src/games/roomLife.ts';
import type { LifeWrite } from '../../src/games/saved.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

// The saver of a life run here tells a write refused because another node holds the room (the
// life is stale: it stops and says so) from one that failed (the store was unreachable: the
// life is still ours, and the next change is written).

function saverAnswering(outcomes: LifeSaveOutcome[]) {
  const life = new RoomLife({ host: new RecordingHost() });
  life.memberJoined({ id: 'ann', nickname: 'Ann' });
  const writes: LifeWrite[] = [];
  let taken = 0;
  const saver = new LifeSaver(
    () => life,
    async (write) => (writes.push(write), outcomes.shift() ?? 'saved'),
    () => void taken++,
  );
  return { life, saver, writes, taken: () => taken };
}

test('a failed write keeps the life; the next change is written, whole', async () => {
  const { life, saver, writes, taken } = saverAnswering(['failed']);
  saver.touch();
  await saver.flushed();
  life.memberJoined({ id: 'ben', nickname: 'Ben' });
  saver.touch();
  await saver.flushed();
  assert.equal(taken(), 0, 'still ours');
  assert.equal(writes.length, 2);
  assert.ok(writes[1]!.state.includes('"ben"'), 'the state written again, not a delta');
});

test('a write refused because another node holds the room stops the saver and says so', async () => {
  const { life, saver, writes, taken } = saverAnswering(['taken']);
  saver.touch();
  await saver.flushed();
  assert.equal(taken(), 1);
  life.memberJoined({ id: 'ben', nickname: 'Ben' });
  saver.touch();
  await saver.flushed();
  assert.equal(writes.length, 1, 'nothing written after');
  assert.equal(taken(), 1);
});
