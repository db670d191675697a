import { deriveKey, PROCESS_SECRET, seal, unseal } from '../kernel/sealed.ts';
import { rpcEnvelopeSchema, type RpcEnvelope } from './schemas.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An envelope as a node writes it; sealing stamps the time. */
export type UnsealedEnvelope = OmitEach<RpcEnvelope, 'ts'>;

export interface RpcSealOptions {
  /**
   * The cluster secret (files.secret), the same on every node. Absent: this process's own
   * random one (kernel/sealed.ts), so only the nodes of this process can call each other.
   */
  secret?: string | Buffer | undefined;
  /**
   * How far a message's time may be from this node's clock, either way (the nodes' clocks
   * differ a little): an older one is a replay and is dropped. Default 30 s.
   */
  windowMs?: number | undefined;
  now?: () => number;
}

/** Why a message was dropped, for the log. */
export interface Dropped {
  dropped: string;
  detail?: object;
}

/** The RPC key: a derivation of its own, so no bus signature passes for an RPC one. */
export function rpcKey(secret: string | Buffer): Buffer {
  return deriveKey(secret, 'cluster rpc v1');
}

/**
 * Signs every RPC envelope, request and answer, with a key from the cluster secret and the
 * time it was sent; opens only what is signed with that key (compared in constant time),
 * fresh (within the window of this node's clock) and, for a request, not seen before: a
 * request recorded off Redis and published again is dropped, within the window because its
 * id was seen, after it because it is stale.
 */
export class RpcSeal {
  readonly #key: Buffer;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Requests opened while they are fresh: `<from> <id>` → when they stop being fresh. */
  readonly #seen = new Map<string, number>();

  constructor(opts: RpcSealOptions = {}) {
    this.#key = rpcKey(opts.secret ?? PROCESS_SECRET);
    this.#windowMs = opts.windowMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
  }

  seal(envelope: UnsealedEnvelope): string {
    return seal({ ...envelope, ts: this.#now() }, this.#key);
  }

  open(raw: string): RpcEnvelope | Dropped {
    const opened = unseal(raw, this.#key);
    if (opened === 'not signed') return { dropped: 'unsigned' };
    if (typeof opened === 'string') return { dropped: opened };
    const parsed = safeParseInput(rpcEnvelopeSchema, opened.body);
    if (!parsed.success) return { dropped: 'not an rpc envelope' };
    const msg = parsed.data;
    const now = this.#now();
    const ageMs = now - msg.ts;
    if (Math.abs(ageMs) > this.#windowMs)
      return { dropped: 'stale', detail: { ageMs, from: msg.from, kind: msg.kind } };
    if (msg.kind !== 'req') return msg; // An answer settles one pending request, once.
    this.#forgetStale(now);
    const key = `${msg.from} ${msg.id}`;
    if (this.#seen.has(key)) return { dropped: 'replayed', detail: { from: msg.from } };
    this.#seen.set(key, msg.ts + this.#windowMs);
    return msg;
  }

  /** Requests past their window are refused as stale anyway: no need to remember them. */
  #forgetStale(now: number): void {
    // Roughly in order of arrival: stop at the first still fresh (the rest go later).
    for (const [key, freshUntil] of this.#seen) {
      if (freshUntil >= now) break;
      this.#seen.delete(key);
    }
  }
}
