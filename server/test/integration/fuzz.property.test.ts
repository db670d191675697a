import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
// The one import of the protocol's tables.
import { ERROR_CODES } from '@tutti/protocol';
import { requestSchemas } from '@tutti/protocol/schemas';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

// Issue #10 "Soak and fuzz": property-based fuzzing of every protoo request schema against
// the real server over a raw WebSocket speaking protoo frames. Per method, thousands of
// generated cases (arbitrary JSON, schema-shaped values with wrong types and extremes, huge
// strings, prototype-pollution keys) from a member of a room, so valid-looking requests reach
// the handlers. Properties: every request is answered; every answer is a success or an error
// whose code is in the protocol's table (with its status), never INTERNAL; afterwards the
// server still answers /api/health and a valid request.
//
// Reproduce a failure with the seed it prints: FUZZ_SEED=<n> (FUZZ_CASES sets cases/method).

const CASES_PER_METHOD = Number(process.env.FUZZ_CASES ?? 1500);
/** Methods whose successes persist something costly (a room row each): fewer cases. */
const CASES_OVERRIDE: Partial<Record<string, number>> = {
  'room.create': Math.ceil(CASES_PER_METHOD / 2),
};
const BATCH = 50; // requests in flight per property run (one run = one batch of them)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ANSWER_TIMEOUT_MS = 10_000;
/** The server cuts a socket that sends a bigger frame (1009): not what this test is about. */
const MAX_FRAME_BYTES = 1024 * 1024 - 256;

type Method = keyof typeof requestSchemas;
const METHODS = Object.keys(requestSchemas) as Method[];

// ── Generated values ──────────────────────────────────────────────────────────────────

/** An object whose keys are written into the JSON text as given (`__proto__` included). */
class RawObject {
  readonly entries: [string, unknown][];
  constructor(entries: [string, unknown][]) {
    this.entries = entries;
  }
}

/** JSON text for generated values; RawObject keys stay own keys, undefined is dropped. */
function encode(v: unknown): string {
  return (
    JSON.stringify(v, (_key, x: unknown) => {
      if (!(x instanceof RawObject)) return x;
      // An own "__proto__" key needs defineProperty (assignment would set the prototype).
      const plain: Record<string, unknown> = {};
      for (const [k, value] of x.entries) {
        Object.defineProperty(plain, k, { value, enumerable: true, configurable: true });
      }
      return plain;
    }) ?? 'null'
  );
}

const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const extremeNumber = fc.constantFrom(
  0,
  -0,
  -1,
  0.5,
  4,
  1e308,
  -1e308,
  5e-324,
  2 ** 31,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER,
);

/** Up to ~150 kB of UTF-8 (frames stay under the server's 1 MB limit; see MAX_FRAME_BYTES). */
const hugeString = fc
  .tuple(fc.integer({ min: 1_000, max: 150_000 }), fc.constantFrom('x', 'é', '💥', '\u202e', '\0'))
  .map(([bytes, unit]) => unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))));

const weirdString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '   \t\n', '\u0000', '\ud800', 'ali\u202eecilab\u0007', '../../etc'),
  fc.constantFrom(...POLLUTING_KEYS),
);

const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 2_000 }), fc.boolean())
  .map(([depth, arrays]) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    tie('polluted'),
  ),
  polluted: fc
    .array(fc.tuple(fc.constantFrom(...POLLUTING_KEYS, 'a', 'polluted'), tie('tree')), {
      maxLength: 3,
    })
    .map((entries) => new RawObject(entries)),
}));

/** Anything at all: wrong type for any field. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 6 },
  { arbitrary: extremeNumber, weight: 3 },
  { arbitrary: weirdString, weight: 4 },
  { arbitrary: fc.constantFrom(null, true, false, [], {}), weight: 2 },
  { arbitrary: tree, weight: 2 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: hugeString, weight: 1 },
);

/** The bits of a zod schema the generator reads (zod 4 exposes them on every schema). */
interface ZodLike {
  def: { type: string; innerType?: ZodLike; entries?: Record<string, string> };
  shape?: Record<string, ZodLike>;
  minLength?: number | null;
  maxLength?: number | null;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
}

/** A value near what `schema` accepts: valid, at its bounds, or just past them. */
function plausible(schema: ZodLike, knownIds: readonly string[]): fc.Arbitrary<unknown> {
  switch (schema.def.type) {
    case 'optional':
      return fc.option(plausible(schema.def.innerType!, knownIds), { nil: undefined });
    case 'nullable':
      return fc.option(plausible(schema.def.innerType!, knownIds), { nil: null });
    case 'enum':
      return fc.oneof(
        fc.constantFrom(...Object.values(schema.def.entries ?? { x: 'x' })),
        fc.constantFrom('', 'AUDIO', 'mic ', 'camera\u0000'),
      );
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1));
    case 'number': {
      const min = Math.max(schema.minValue ?? -1e6, -1e6);
      const max = Math.min(schema.maxValue ?? 1e6, 1e6);
      return fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
        fc.constantFrom(min - 1, max + 1, min + 0.5, String(min)),
        extremeNumber,
      );
    }
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 300, 5_000);
      return fc.oneof(
        fc.string({ minLength: min, maxLength: max }),
        fc.constantFrom(...knownIds),
        fc.constantFrom('a'.repeat(max), 'a'.repeat(max + 1), ' '.repeat(Math.max(min, 1))),
        weirdString,
      );
    }
    case 'object':
      return shaped(schema, knownIds);
    default:
      // z.custom objects (RTP/DTLS parameters): arbitrary objects, mediasoup validates them.
      return fc.oneof(fc.object({ maxDepth: 3 }), fc.constant({}), tree);
  }
}

/** An object with the schema's keys (each plausible, nasty or absent) and maybe extra keys. */
function shaped(schema: ZodLike, knownIds: readonly string[]): fc.Arbitrary<unknown> {
  const fields = Object.entries(schema.shape ?? {}).map(([key, field]) =>
    fc
      .oneof(
        { arbitrary: plausible(field, knownIds), weight: 6 },
        { arbitrary: nasty, weight: 2 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      )
      .map((v): [string, unknown] => [key, v]),
  );
  const extra = fc.array(fc.tuple(fc.constantFrom(...POLLUTING_KEYS, 'extra'), nasty), {
    maxLength: 2,
  });
  return fc
    .tuple(fc.tuple(...fields), fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, extra))
    .map(([own, more]) => new RawObject([...more, ...own]));
}

/** The `data` of one request for `method`. */
function requestData(method: Method, knownIds: readonly string[]): fc.Arbitrary<unknown> {
  const schema = requestSchemas[method] as unknown as ZodLike;
  return fc.oneof(
    { arbitrary: shaped(schema, knownIds), weight: 6 },
    { arbitrary: nasty, weight: 2 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

// ── A raw protoo connection ───────────────────────────────────────────────────────────

/** A protoo response, or what happened instead. */
type Answer = ProtooAnswer | 'unanswered' | 'closed';

interface ProtooAnswer {
  response: true;
  id: number;
  ok: boolean;
  data?: unknown;
  errorCode?: number;
  errorReason?: string;
}

class RawProtoo {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (a: ProtooAnswer | 'closed') => void>();
  #nextId = 1;
  closed = false;
  closeCode: number | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as Partial<ProtooAnswer> & { request?: boolean };
      if (m.response && typeof m.id === 'number') {
        this.#pending.get(m.id)?.(m as ProtooAnswer);
        this.#pending.delete(m.id);
      }
      // Notifications (lobby updates…) and server requests are not what is tested here.
    };
    ws.onclose = (ev) => {
      this.closed = true;
      this.closeCode = ev.code;
      for (const answer of this.#pending.values()) answer('closed');
      this.#pending.clear();
    };
  }

  static async open(url: string): Promise<RawProtoo> {
    const ws = new WebSocket(url, 'protoo');
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('socket failed'));
    });
    return new RawProtoo(ws);
  }

  /** Sends `{request, id, method, data}` with `dataJson` as the data's JSON text. */
  request(method: string, dataJson: string | undefined): Promise<Answer> {
    const id = this.#nextId++;
    const data = dataJson === undefined ? '' : `,"data":${dataJson}`;
    if (this.closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve('unanswered');
      }, ANSWER_TIMEOUT_MS);
      this.#pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.#ws.send(`{"request":true,"id":${id},"method":${JSON.stringify(method)}${data}}`);
    });
  }

  async valid(method: string, data: object): Promise<Record<string, unknown>> {
    const a = await this.request(method, JSON.stringify(data));
    assert.ok(typeof a === 'object' && a.ok, `${method} failed: ${JSON.stringify(a)}`);
    return a.data as Record<string, unknown>;
  }

  close(): void {
    this.#ws.close();
  }
}

/** Why an answer breaks the property, or undefined when it is fine. */
function badAnswer(a: Answer): string | undefined {
  if (a === 'unanswered') return `no answer within ${ANSWER_TIMEOUT_MS} ms`;
  if (a === 'closed') return 'the server closed the socket before answering';
  if (a.ok) return undefined;
  const code = /^([A-Z_]+): /.exec(a.errorReason ?? '')?.[1];
  if (!code || !Object.hasOwn(ERROR_CODES, code)) return `unknown error code: ${a.errorReason}`;
  if (code === 'INTERNAL') return `INTERNAL: ${a.errorReason}`;
  const status = ERROR_CODES[code as keyof typeof ERROR_CODES];
  if (a.errorCode !== status) return `${code} with status ${a.errorCode}, table says ${status}`;
  return undefined;
}

/** A new connection that created its own room, joined it and has a send transport. */
async function joinedMember(
  s: TestServer,
  method: string,
): Promise<{ conn: RawProtoo; knownIds: string[] }> {
  const conn = await RawProtoo.open(s.wsUrl);
  const created = await conn.valid('room.create', { name: `fuzz ${method} ${Math.random()}` });
  const roomId = (created.room as { id: string }).id;
  const joined = await conn.valid('room.join', { roomId, nickname: 'fuzzer' });
  const selfId = (joined.self as { id: string }).id;
  const transport = await conn.valid('media.createTransport', { direction: 'send' });
  return { conn, knownIds: [roomId, selfId, String(transport.id), 'a', 'x'.repeat(64)] };
}

// ── The test ──────────────────────────────────────────────────────────────────────────

describe('property-based fuzzing of every protoo request schema', () => {
  let s: TestServer;
  const codesSeen = new Map<string, number>();

  before(async () => {
    s = await startTestServer({
      signaling: { requestsPerSecond: 1e6, requestBurst: 1e6, roomCreatesPerMinute: 1e6 },
      chat: { ratePerSecond: 1e6, burst: 1_000_000 },
    });
  });
  after(async () => {
    await s?.stop();
    console.log(`fuzz seed ${SEED}; answers: ${JSON.stringify(Object.fromEntries(codesSeen))}`);
  });

  for (const method of METHODS) {
    const cases = CASES_OVERRIDE[method] ?? CASES_PER_METHOD;
    test(`${method}: ${cases} cases answered with success or a known error`, async () => {
      // A member of its own room with a send transport, so requests reach the handlers
      // (again after a failing case cut the socket, so shrinking finds that case).
      let member = await joinedMember(s, method);
      const batch = fc.array(requestData(method, member.knownIds), {
        minLength: BATCH,
        maxLength: BATCH,
      });
      const details = await fc.check(
        fc.asyncProperty(batch, async (values) => {
          if (member.conn.closed) member = await joinedMember(s, method);
          const { conn } = member;
          const texts = values
            .map((c) => (c === undefined ? undefined : encode(c)))
            .filter((t) => t === undefined || Buffer.byteLength(t) < MAX_FRAME_BYTES);
          const answers = await Promise.all(texts.map((t) => conn.request(method, t)));
          answers.forEach((a, i) => {
            const why = badAnswer(a);
            if (why) {
              const closed = conn.closed ? ` (socket closed with ${conn.closeCode})` : '';
              throw new Error(`${why}${closed}\n  data: ${String(texts[i]).slice(0, 300)}`);
            }
            const code = typeof a !== 'object' ? a : a.ok ? 'ok' : a.errorReason!.split(':')[0]!;
            codesSeen.set(code, (codesSeen.get(code) ?? 0) + 1);
          });
        }),
        {
          numRuns: Math.ceil(cases / BATCH),
          seed: SEED,
          // Shrinking against a live server is slow: bound it, and still fail.
          interruptAfterTimeLimit: 20_000,
          markInterruptAsFailure: true,
        },
      );
      // Our own report: the generated values can be megabytes (fc's would print them all).
      if (details.failed) {
        const why = details.errorInstance instanceof Error ? details.errorInstance.message : '';
        assert.fail(
          `${method}: ${why.slice(0, 600)} (seed ${details.seed}, path ${details.counterexamplePath})`,
        );
      }
      assert.equal(member.conn.closed, false, 'the server kept the fuzzing socket open');
      member.conn.close();

      // Still alive and serving: HTTP and a valid request on a new socket.
      const health = await fetch(`${s.url}/api/health`);
      assert.equal(health.status, 200);
      const probe = await RawProtoo.open(s.wsUrl);
      const lobby = await probe.valid('lobby.subscribe', {});
      assert.ok(Array.isArray(lobby.rooms));
      probe.close();
    });
  }
});
