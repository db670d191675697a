import { accessSync, constants, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { findExecutable, killChild, realStdin, spawnPiped } from './child.ts';
import type { Transcriber, TranscriberEngine, TranscriberHandlers } from './transcriber.ts';

export interface PocketsphinxOptions {
  /** `pocketsphinx_continuous` (Debian's `pocketsphinx` package), or a path to it. */
  binary: string;
  /** Acoustic model directory, language model and dictionary (`pocketsphinx-en-us`). */
  hmm: string;
  lm: string;
  dict: string;
  language: string;
}

/** PCM queued for the recognizer beyond which new audio is dropped (~8 s: it fell behind). */
const MAX_QUEUED_BYTES = 256 * 1024;

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * CMU pocketsphinx through Debian's `pocketsphinx_continuous` CLI, one process per speaker:
 * PCM on stdin (`-infile /dev/stdin`), one line of text per utterance on stdout. Its own
 * voice activity detection splits utterances at silences; it prints no partial hypotheses.
 */
export function pocketsphinxEngine(opts: PocketsphinxOptions): TranscriberEngine {
  return {
    name: 'pocketsphinx',
    language: opts.language,
    partials: false,
    unavailable() {
      if (!findExecutable(opts.binary, executable)) {
        return `${opts.binary} not found (apt-get install pocketsphinx)`;
      }
      for (const path of [opts.hmm, opts.lm, opts.dict]) {
        if (!existsSync(path))
          return `model file ${path} missing (apt-get install pocketsphinx-en-us)`;
      }
      return null;
    },
    open: (handlers) => openPocketsphinx(opts, handlers),
  };
}

function openPocketsphinx(opts: PocketsphinxOptions, handlers: TranscriberHandlers): Transcriber {
  let killed = false;
  const args = ['-infile', '/dev/stdin', '-hmm', opts.hmm, '-lm', opts.lm, '-dict', opts.dict];
  const [command, argv] = realStdin(opts.binary, [...args, '-logfn', '/dev/null']);
  const child = spawnPiped(command, argv, (code, signal, err) => {
    if (killed) return handlers.onExit(null);
    const how = err || (signal ? `signal ${signal}` : `code ${String(code)}`);
    handlers.onExit(new Error(`pocketsphinx ended: ${how}`));
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const text = line.trim();
    if (text) handlers.onText({ text, final: true });
  });
  return {
    get pid() {
      return child.pid;
    },
    write(pcm) {
      if (killed || !child.stdin.writable) return;
      if (child.stdin.writableLength > MAX_QUEUED_BYTES) return;
      child.stdin.write(pcm);
    },
    kill() {
      killed = true;
      return killChild(child);
    },
  };
}
