import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Producer, Router } from 'mediasoup/types';
import { loadConfig } from '@tutti/config';
import { silentLogger } from '../../src/kernel/log.ts';
import { pocketsphinxEngine } from '../../src/captions/pocketsphinx.ts';
import { CaptionStream } from '../../src/captions/stream.ts';
import type { ProducerAppData } from '../../src/rooms/mediaTypes.ts';

// A recognizer that crashes at start (no acoustic model): the stream restarts it up to
// maxRestarts times within a minute, then gives up and says why. The mic is paused, so no
// decoder (and no router) is involved.
test('a recognizer that keeps crashing is restarted, then given up and reported', async () => {
  const settings = loadConfig({}, {}).captions.pocketsphinx;
  const engine = pocketsphinxEngine({ ...settings, hmm: '/nonexistent-model' });
  let opened = 0;
  const counting = {
    ...engine,
    open(handlers: Parameters<typeof engine.open>[0]) {
      opened++;
      return engine.open(handlers);
    },
  };
  const mic = Object.assign(new EventEmitter(), {
    id: 'mic-1',
    paused: true,
    closed: false,
    appData: { source: 'mic', peerId: 'p1' },
    observer: new EventEmitter(),
  }) as unknown as Producer<ProducerAppData>;
  const failed = await new Promise<string>((resolve) => {
    new CaptionStream({
      router: {} as Router,
      producer: mic,
      engine: counting,
      ffmpeg: 'ffmpeg',
      listenIp: '127.0.0.51',
      maxRestarts: 2,
      log: silentLogger,
      onText: () => assert.fail('no text from a crashing recognizer'),
      onFailed: resolve,
    });
  });
  assert.equal(opened, 3, 'the first start and two restarts');
  assert.match(failed, /^recognizer: pocketsphinx ended: .*exit status 1/s);
});
