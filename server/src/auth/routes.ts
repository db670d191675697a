import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { parseOrThrow } from '@tutti/protocol/schemas';
import type { AccountService, SignedIn } from './AccountService.ts';
import { clearCookie, FLOW_COOKIE, readCookie, SESSION_COOKIE, setCookie } from './cookies.ts';
import { loginErrorPage } from './errorPage.ts';
import { checkSameOrigin, requestOrigin } from './origin.ts';
import type { SocialLogin } from './SocialLogin.ts';

export interface AuthRoutesOptions {
  accounts: AccountService;
  social: SocialLogin;
  /** config.server.publicUrl */
  publicUrl: string | undefined;
  /** config.auth.guests */
  guests: boolean;
  sessionTtlSeconds: number;
}

const email = z.email().max(254);
const password = z.string().min(8, 'at least 8 characters').max(256);
const schemas = {
  signup: z.object({ email, password, name: z.string().trim().min(1).max(64).optional() }).strict(),
  login: z.object({ email: z.string().max(254), password: z.string().max(256) }).strict(),
  password: z
    .object({ currentPassword: z.string().max(256).optional(), newPassword: password })
    .strict(),
  deleteAccount: z.object({ password: z.string().max(256).optional() }).strict(),
  providerParams: z.object({ id: z.string().regex(/^[a-z0-9-]{1,32}$/) }),
};

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrThrow(schema, value ?? {});
}

const FLOW_PATH = '/api/auth';

/**
 * /api/auth/…: signup, login, logout, me, password, account (DELETE), providers, and the
 * provider redirect (/api/auth/<id>/login) and callback (/api/auth/<id>/callback).
 * Encapsulated: it gets its services as options and sets no decorators outside itself.
 */
export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (app, opts) => {
  const { accounts, social } = opts;

  app.setErrorHandler((err, _req, reply) => {
    if (!(err instanceof TuttiError)) throw err;
    void reply.status(err.status).send({ error: err.code, message: err.message });
  });
  // CSRF: every POST/PUT/PATCH/DELETE here must come from our own origin.
  app.addHook('onRequest', async (req) => checkSameOrigin(req, opts.publicUrl));

  const token = (req: FastifyRequest): string | undefined => readCookie(req, SESSION_COOKIE);
  const signIn = async (req: FastifyRequest, reply: FastifyReply, s: SignedIn) => {
    // A login replaces the browser's previous session: end it rather than orphan it.
    const previous = token(req);
    if (previous && previous !== s.token) await accounts.logout(previous);
    setCookie(req, reply, SESSION_COOKIE, s.token, { maxAge: opts.sessionTtlSeconds });
    return { user: await accounts.publicUser(s.user) };
  };

  app.get('/api/auth/providers', async () => ({
    guests: opts.guests,
    providers: social.list(),
  }));

  app.get('/api/auth/me', async (req, reply) => {
    const user = await accounts.userOf(token(req));
    if (!user && token(req)) clearCookie(req, reply, SESSION_COOKIE);
    return { user: user ? await accounts.publicUser(user) : null };
  });

  app.post('/api/auth/signup', async (req, reply) => {
    const body = parse(schemas.signup, req.body);
    const signedIn = await accounts.signup(body, req.ip);
    return reply.status(201).send(await signIn(req, reply, signedIn));
  });

  app.post('/api/auth/login', async (req, reply) => {
    const body = parse(schemas.login, req.body);
    return signIn(req, reply, await accounts.login(body, req.ip));
  });

  app.post('/api/auth/logout', async (req, reply) => {
    await accounts.logout(token(req));
    clearCookie(req, reply, SESSION_COOKIE);
    return reply.status(204).send();
  });

  app.post('/api/auth/password', async (req) => {
    const body = parse(schemas.password, req.body);
    const user = await accounts.changePassword(token(req), body, req.ip);
    return { user: await accounts.publicUser(user) };
  });

  app.delete('/api/auth/account', async (req, reply) => {
    const body = parse(schemas.deleteAccount, req.body);
    await accounts.deleteAccount(token(req), body, req.ip);
    clearCookie(req, reply, SESSION_COOKIE);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string }; Querystring: { return?: string } }>(
    '/api/auth/:id/login',
    async (req, reply) => {
      const { id } = parse(schemas.providerParams, req.params);
      const redirectUri = `${requestOrigin(req, opts.publicUrl)}/api/auth/${id}/callback`;
      try {
        const { flowId, url } = await social.start(id, redirectUri, req.query.return ?? '/');
        setCookie(req, reply, FLOW_COOKIE, flowId, { maxAge: 600, path: FLOW_PATH });
        return reply.redirect(url.href, 302);
      } catch (err) {
        return refuse(req, reply, err);
      }
    },
  );

  app.get<{ Params: { id: string } }>('/api/auth/:id/callback', async (req, reply) => {
    const { id } = parse(schemas.providerParams, req.params);
    const flowId = readCookie(req, FLOW_COOKIE);
    clearCookie(req, reply, FLOW_COOKIE, FLOW_PATH);
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    try {
      const result = await social.finish(id, flowId, query);
      await signIn(req, reply, result);
      return reply.redirect(result.returnTo, 302);
    } catch (err) {
      return refuse(req, reply, err);
    }
  });
};

/** A refused provider login: a readable page for a browser, JSON for everything else. */
function refuse(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof TuttiError)) {
    req.log.warn({ err }, 'provider login failed');
    err = new TuttiError('LOGIN_FAILED', 'login failed; try again');
  }
  const e = err as TuttiError;
  req.log.info({ code: e.code, reason: e.message }, 'provider login refused');
  if ((req.headers.accept ?? '').includes('text/html'))
    return reply.status(e.status).type('text/html; charset=utf-8').send(loginErrorPage(e.message));
  return reply.status(e.status).send({ error: e.code, message: e.message });
}
