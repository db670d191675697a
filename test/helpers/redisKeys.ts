import { Redis } from 'ioredis';

/** The Redis the tests share (each run under a key prefix of its own). */
export const TEST_REDIS_URL = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Deletes every key under `prefix`: a test's clean-up, so it never fails the test (a Redis
 * of the test's own may be gone already).
 */
export async function dropRedisKeys(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  const keys = await redis.keys(`${prefix}*`).catch(() => []);
  if (keys.length) await redis.del(...keys).catch(() => 0);
  // Until the socket is closed, not only QUIT answered: nothing of the test outlives it.
  const ended = new Promise((resolve) => redis.once('end', resolve));
  await redis.quit().catch(() => redis.disconnect());
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
}
