import { z } from 'zod';
import { cidrList, seconds, stringList } from './fields.ts';

export const adminSection = z
  .object({
    /**
     * Client addresses or CIDRs (after trustProxy) allowed to reach the admin API
     * (/api/admin/*, docs/admin-api.md); every other address gets 403 even with a valid key.
     * Default: loopback.
     */
    allowIps: cidrList.default(['127.0.0.0/8', '::1/128']),
    /** Longest join token lifetime the server accepts (exp − iat), in seconds. */
    maxTokenTtlSeconds: seconds.default(86_400),
  })
  .prefault({});

export const webhooksSection = z
  .object({
    /** Receivers of room_started, room_finished, participant_joined, participant_left. */
    urls: stringList(z.url({ protocol: /^https?$/ })).default([]),
    /** HMAC-SHA256 key signing each POST (header Tutti-Signature); required with urls. */
    secret: z.string().min(16).optional(),
    /** One POST's deadline. */
    timeoutMs: z.coerce.number().int().min(100).default(5000),
    /** Attempts per event and receiver (the first + retries, with exponential backoff). */
    maxAttempts: z.coerce.number().int().min(1).max(20).default(6),
    /** The first retry's delay; each next one doubles (with jitter). */
    backoffMs: z.coerce.number().int().min(1).default(1000),
    /** Events waiting per receiver; beyond it the oldest is dropped (never the room waits). */
    queueSize: z.coerce.number().int().min(1).default(1000),
  })
  .prefault({})
  .refine((w) => w.urls.length === 0 || w.secret !== undefined, {
    message: 'webhooks.urls needs webhooks.secret (TUTTI_WEBHOOK_SECRET)',
  });
