import type { Config } from '@tutti/config';
import { pocketsphinxEngine } from './pocketsphinx.ts';
import type { TranscriberEngine } from './transcriber.ts';

/**
 * The configured recognizer. sherpa-onnx (`sherpa-onnx-node`, e.g. for Korean) is a slot:
 * it needs a model directory an operator supplies, and no model is installable on the build
 * machine (neither npm nor apt ship one), so it is not implemented yet: selecting it leaves
 * captions unavailable with that reason instead of pretending (docs/captions.md).
 */
export function engineFromConfig(config: Config['captions']): TranscriberEngine {
  if (config.engine === 'pocketsphinx') return pocketsphinxEngine(config.pocketsphinx);
  return blockedEngine(
    'sherpa-onnx',
    config.sherpaOnnx.language,
    'the sherpa-onnx engine is not built yet: it needs an operator-supplied model, and none is installable here',
  );
}

function blockedEngine(
  name: TranscriberEngine['name'],
  language: string,
  reason: string,
): TranscriberEngine {
  return {
    name,
    language,
    partials: false,
    unavailable: () => reason,
    open() {
      throw new Error(reason);
    },
  };
}
