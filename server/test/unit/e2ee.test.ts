import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RtpParameters } from 'mediasoup/types';
import { TuttiError } from '@tutti/protocol';
import { assertE2eeCodecs, assertNotE2ee } from '../../src/rooms/e2ee.ts';

const params = (...mimeTypes: string[]): RtpParameters => ({
  codecs: mimeTypes.map((mimeType, i) => ({
    mimeType,
    payloadType: 96 + i,
    clockRate: mimeType.startsWith('audio') ? 48000 : 90000,
  })),
  encodings: [{ ssrc: 1 }],
});

const refused = (fn: () => void, code: string, pattern: RegExp) =>
  assert.throws(
    fn,
    (err: unknown) => err instanceof TuttiError && err.code === code && pattern.test(err.message),
  );

describe('E2EE room rules', () => {
  test('server-side media features are refused in an E2EE room, with the reason', () => {
    refused(
      () => assertNotE2ee({ e2ee: true }, 'Recording'),
      'FORBIDDEN',
      /^Recording .*end-to-end encrypted/,
    );
    assertNotE2ee({ e2ee: false }, 'Recording');
  });

  test('only VP8 and Opus (and their RTX) are produced in an E2EE room', () => {
    assertE2eeCodecs({ e2ee: true }, params('audio/opus'));
    assertE2eeCodecs({ e2ee: true }, params('video/VP8', 'video/rtx'));
    refused(
      () => assertE2eeCodecs({ e2ee: true }, params('video/H264')),
      'INVALID_REQUEST',
      /VP8 and Opus/,
    );
    refused(
      () => assertE2eeCodecs({ e2ee: true }, params('video/VP9', 'video/rtx')),
      'INVALID_REQUEST',
      /VP9/,
    );
    assertE2eeCodecs({ e2ee: false }, params('video/H264'));
  });
});
