import { z } from 'zod';
import { bool } from './fields.ts';

/** Debian's pocketsphinx-en-us model (the only recognizer model installable from apt). */
const SPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us';

/**
 * Live captions (server/src/captions, docs/captions.md). Each captioned mic costs one ffmpeg
 * decoder and one recognizer process on this node; `maxStreams` bounds them.
 */
export const captionsSection = z
  .object({
    /** Whether rooms may turn captions on at all on this node. */
    enabled: bool.default(true),
    engine: z.enum(['pocketsphinx', 'sherpa-onnx']).default('pocketsphinx'),
    /** Caption streams (mics being transcribed) this node runs at once, over all rooms. */
    maxStreams: z.coerce.number().int().min(0).max(256).default(4),
    /** Where the mic is handed to ffmpeg over RTP (a loopback address). */
    listenIp: z.string().default('127.0.0.1'),
    ffmpegPath: z.string().default('ffmpeg'),
    /** Crashes of one stream's decoder/recognizer restarted within a minute before giving up. */
    maxRestarts: z.coerce.number().int().min(0).max(20).default(3),
    pocketsphinx: z
      .object({
        binary: z.string().default('pocketsphinx_continuous'),
        hmm: z.string().default(`${SPHINX_MODEL}/en-us`),
        lm: z.string().default(`${SPHINX_MODEL}/en-us.lm.bin`),
        dict: z.string().default(`${SPHINX_MODEL}/cmudict-en-us.dict`),
        language: z.string().default('en-US'),
      })
      .prefault({}),
    /** sherpa-onnx: a model directory an operator supplies (none is installable here). */
    sherpaOnnx: z
      .object({
        modelDir: z.string().default(''),
        language: z.string().default(''),
      })
      .prefault({}),
  })
  .prefault({});
