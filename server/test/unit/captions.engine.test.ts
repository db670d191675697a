import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadConfig } from '@tutti/config';
import { sdpFor } from '../../src/captions/decoder.ts';
import { engineFromConfig } from '../../src/captions/engines.ts';
import { pocketsphinxEngine } from '../../src/captions/pocketsphinx.ts';
import { StreamSlots } from '../../src/captions/slots.ts';
import { Transcript } from '../../src/captions/transcript.ts';
import { PCM_BYTES_PER_SECOND, type RecognizedText } from '../../src/captions/transcriber.ts';

// Debian's pocketsphinx-testdata: 16 kHz mono s16le, "go forward ten meters".
const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const settings = () => loadConfig({}, {}).captions;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('pocketsphinx engine (the real CLI and Debian model)', () => {
  test('is available here, and says why not when its binary or model is missing', () => {
    const s = settings();
    assert.equal(pocketsphinxEngine(s.pocketsphinx).unavailable(), null);
    assert.match(
      pocketsphinxEngine({ ...s.pocketsphinx, binary: 'no-such-sphinx' }).unavailable() ?? '',
      /no-such-sphinx not found/,
    );
    assert.match(
      pocketsphinxEngine({ ...s.pocketsphinx, lm: '/nope.lm.bin' }).unavailable() ?? '',
      /model file \/nope.lm.bin missing/,
    );
  });

  // Generous timeout: on a loaded 2-core box pocketsphinx runs well below real time.
  test(
    'streams goforward.raw in 20 ms chunks and returns the words as a final line',
    { timeout: 45_000 },
    async () => {
      const engine = pocketsphinxEngine(settings().pocketsphinx);
      const texts: RecognizedText[] = [];
      const exits: (Error | null)[] = [];
      let heard!: () => void;
      const got = new Promise<void>((resolve) => (heard = resolve));
      const t = engine.open({
        onText: (text) => {
          texts.push(text);
          heard();
        },
        onExit: (err) => exits.push(err),
      });
      const pcm = readFileSync(GOFORWARD);
      const chunk = PCM_BYTES_PER_SECOND / 50;
      for (let off = 0; off < pcm.length; off += chunk) t.write(pcm.subarray(off, off + chunk));
      t.write(Buffer.alloc(2 * PCM_BYTES_PER_SECOND)); // the silence that ends the utterance
      await got;
      const pid = t.pid!;
      assert.equal(alive(pid), true, 'still listening after the utterance');
      await t.kill();
      assert.equal(alive(pid), false, 'killed and reaped');
      assert.deepEqual(exits, [null]);
      assert.deepEqual(texts, [{ text: 'go forward ten meters', final: true }]);
      assert.equal(engine.partials, false);
    },
  );

  test('a crash is reported with what it said; a kill is not a crash', async () => {
    const engine = pocketsphinxEngine({ ...settings().pocketsphinx, hmm: '/nonexistent-model' });
    const exit = await new Promise<Error | null>((resolve) => {
      engine.open({ onText: () => {}, onExit: resolve });
    });
    assert.ok(exit instanceof Error);
    assert.match(exit.message, /^pocketsphinx ended: .*exit status [1-9]/s);

    const killed = await new Promise<Error | null>((resolve) => {
      const t = pocketsphinxEngine(settings().pocketsphinx).open({
        onText: () => {},
        onExit: resolve,
      });
      void t.kill();
    });
    assert.equal(killed, null);
  });
});

describe('captions wiring', () => {
  test('sherpa-onnx is a slot that reports it is blocked, never a fake recognizer', () => {
    const engine = engineFromConfig({ ...settings(), engine: 'sherpa-onnx' });
    assert.equal(engine.name, 'sherpa-onnx');
    assert.match(engine.unavailable() ?? '', /model/);
    assert.throws(() => engine.open({ onText: () => {}, onExit: () => {} }));
  });

  test('config defaults and env names', () => {
    const env = { TUTTI_CAPTIONS_MAX_STREAMS: '2', TUTTI_CAPTIONS_POCKETSPHINX_LANGUAGE: 'en-GB' };
    const c = loadConfig({}, env).captions;
    assert.equal(c.maxStreams, 2);
    assert.equal(c.pocketsphinx.language, 'en-GB');
    assert.equal(settings().maxStreams, 4);
    assert.equal(settings().engine, 'pocketsphinx');
  });

  test('ffmpeg is told one Opus stream on the chosen port', () => {
    const sdp = sdpFor({ ip: '127.0.0.51', port: 41000, payloadType: 100, rtpmap: 'opus/48000/2' });
    assert.match(sdp, /^c=IN IP4 127\.0\.0\.51\r$/m);
    assert.match(sdp, /^m=audio 41000 RTP\/AVP 100\r$/m);
    assert.match(sdp, /^a=rtpmap:100 opus\/48000\/2\r$/m);
  });

  test('stream slots: a bound, and waiters told when one frees', () => {
    const slots = new StreamSlots(1);
    let told = 0;
    const stop = slots.onFreed(() => told++);
    assert.equal(slots.take(), true);
    assert.equal(slots.take(), false);
    slots.release();
    assert.equal(told, 1);
    stop();
    assert.equal(slots.take(), true);
    slots.release();
    assert.equal(told, 1);
  });

  test('the transcript message: newest lines that fit, oldest first; none when empty', () => {
    const t = new Transcript();
    assert.equal(t.message(2000), null);
    for (let i = 0; i < 600; i++) t.add({ nickname: 'Ann', text: `line ${i}` });
    const all = t.message(1_000_000)!;
    assert.equal(all.lines, 500, 'bounded to the last 500 lines');
    const small = t.message(60)!;
    assert.equal(small.text, 'Transcript (live captions):\nAnn: line 598\nAnn: line 599');
    assert.equal(small.lines, 2);
  });
});
