import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@tutti/config';
import { mapProfile, pick } from '../../src/auth/providers/profile.ts';
import { safeReturnPath } from '../../src/auth/SocialLogin.ts';

const provider = (profile: Record<string, string>) =>
  loadConfig(
    {
      auth: {
        providers: [
          {
            id: 'p',
            name: 'P',
            type: 'oauth2',
            authorizationUrl: 'https://p/a',
            tokenUrl: 'https://p/t',
            userinfoUrl: 'https://p/u',
            clientId: 'c',
            profile,
          },
        ],
      },
    },
    {},
  ).auth.providers[0]!;

test('Naver-shaped profile: fields under "response", no verified flag → never verified', () => {
  const naver = provider({ id: 'response.id', name: 'response.name', email: 'response.email' });
  const p = mapProfile(naver, {
    resultcode: '00',
    message: 'success',
    response: { id: 'abc123', name: '홍길동', email: 'hong@naver.com' },
  });
  assert.deepEqual(p, {
    provider: 'p',
    subject: 'abc123',
    name: '홍길동',
    email: 'hong@naver.com',
    emailVerified: false,
  });
});

test('numeric ids (GitHub) become strings; "true" strings count as verified; bad emails are dropped', () => {
  const gh = provider({ id: 'id', name: 'login', email: 'email', emailVerified: 'verified' });
  assert.equal(mapProfile(gh, { id: 42, login: 'octo', email: null }).subject, '42');
  assert.equal(mapProfile(gh, { id: 1, email: 'a@b.c', verified: 'true' }).emailVerified, true);
  assert.equal(mapProfile(gh, { id: 1, email: 'not-an-email', verified: true }).email, null);
  assert.throws(() => mapProfile(gh, { login: 'no id' }), /LOGIN_FAILED|sent no user id/);
});

test('pick follows dotted paths and stops at non-objects', () => {
  assert.equal(pick({ a: { b: { c: 1 } } }, 'a.b.c'), 1);
  assert.equal(pick({ a: 'x' }, 'a.b'), undefined);
  assert.equal(pick({}, undefined), undefined);
});

test('return paths stay on our origin', () => {
  assert.equal(safeReturnPath('/#/room/abc'), '/#/room/abc');
  for (const bad of [
    '//evil.example',
    'https://evil.example',
    '/\\evil',
    'javascript:alert(1)',
    42,
  ])
    assert.equal(safeReturnPath(bad), '/');
});
