import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import { dropLogger } from './dropLog.ts';
import { ClusterError, remoteError } from './errors.ts';
import { RpcSeal } from './rpcSeal.ts';
import type { RpcEnvelope } from './schemas.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/** How messages reach a node: an in-process hub, or one Redis channel per node. */
export interface RpcTransport {
  /** Resolves how many listeners got it (0: nobody listens as that node). */
  send(nodeId: string, raw: string): Promise<number>;
  /** Starts delivering this node's messages; resolves once nothing sent from now on is missed. */
  listen(nodeId: string, onMessage: (raw: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** One schema pair per method: what a request carries and what its answer carries. */
export type RpcMethods = Record<string, { request: z.ZodType; response: z.ZodType }>;

export type RpcHandler<M extends RpcMethods, K extends keyof M> = (
  data: z.output<M[K]['request']>,
  ctx: { from: string },
) => Promise<z.input<M[K]['response']>> | z.input<M[K]['response']>;

export interface ClusterRpcOptions {
  log: Logger;
  defaultTimeoutMs?: number;
  /** Requests from a node this rejects (e.g. not in the registry) are dropped. */
  acceptFrom?: (nodeId: string) => boolean;
  /** The cluster secret (files.secret) every envelope is signed with (cluster/rpcSeal.ts). */
  secret?: string | Buffer | undefined;
  /** How old a message may be before it counts as a replay (default 30 s). */
  replayWindowMs?: number | undefined;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

interface Pending {
  to: string;
  method: string;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Request/response between nodes, generic over a method→schema map. Every envelope is
 * signed with the cluster secret and stamped with its time (cluster/rpcSeal.ts): unsigned,
 * badly signed, stale and replayed ones are dropped before anything reads them. Both sides
 * validate: the caller its request and the answer, the callee the envelope, the target and
 * the data. Garbage, forged answers (unknown id, wrong sender) and messages for another node
 * are dropped and logged (at most a line a second); a request always settles within its
 * timeout.
 */
export class ClusterRpc<M extends RpcMethods> {
  readonly nodeId: string;
  readonly #transport: RpcTransport;
  readonly #methods: M;
  readonly #opts: ClusterRpcOptions & { defaultTimeoutMs: number };
  readonly #handlers = new Map<string, RpcHandler<M, keyof M>>();
  readonly #pending = new Map<string, Pending>();
  readonly #dropped: (reason: string, detail?: object) => void;
  readonly #seal: RpcSeal;
  #closed = false;

  constructor(transport: RpcTransport, nodeId: string, methods: M, opts: ClusterRpcOptions) {
    this.#transport = transport;
    this.nodeId = nodeId;
    this.#methods = methods;
    this.#opts = { ...opts, defaultTimeoutMs: opts.defaultTimeoutMs ?? 2000 };
    this.#dropped = dropLogger(opts.log);
    this.#seal = new RpcSeal({ secret: opts.secret, windowMs: opts.replayWindowMs });
  }

  start(): Promise<void> {
    return this.#transport.listen(this.nodeId, (raw) => this.#receive(raw));
  }

  handle<K extends keyof M & string>(method: K, handler: RpcHandler<M, K>): void {
    this.#handlers.set(method, handler as RpcHandler<M, keyof M>);
  }

  request<K extends keyof M & string>(
    nodeId: string,
    method: K,
    data: z.input<M[K]['request']>,
    opts: { timeoutMs?: number } = {},
  ): Promise<z.output<M[K]['response']>> {
    const schemas = this.#methods[method];
    if (!schemas) return Promise.reject(new ClusterError('UNKNOWN_METHOD', `no method ${method}`));
    const checked = safeParseInput(schemas.request, data);
    if (!checked.success)
      return Promise.reject(new ClusterError('INVALID_REQUEST', `bad ${method} request`));
    if (this.#closed) return Promise.reject(new ClusterError('UNAVAILABLE', 'rpc closed'));
    const id = randomUUID();
    const timeoutMs = opts.timeoutMs ?? this.#opts.defaultTimeoutMs;
    const sealed = this.#seal.seal({
      v: 1,
      kind: 'req',
      id,
      from: this.nodeId,
      to: nodeId,
      method,
      data: checked.data,
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ClusterError('TIMEOUT', `${method} to ${nodeId}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        to: nodeId,
        method,
        resolve: resolve as (d: unknown) => void,
        reject,
        timer,
      });
      this.#transport.send(nodeId, sealed).then(
        (receivers) => {
          if (receivers === 0)
            this.#settle(id, new ClusterError('UNAVAILABLE', `${nodeId} is not listening`));
        },
        (err: unknown) =>
          this.#settle(id, new ClusterError('UNAVAILABLE', `bus unavailable: ${String(err)}`)),
      );
    });
  }

  /** Fails the requests in flight to a node declared gone, rather than at their timeout. */
  failPendingTo(nodeId: string): void {
    for (const [id, pending] of [...this.#pending])
      if (pending.to === nodeId)
        this.#settle(id, new ClusterError('UNAVAILABLE', `${nodeId} left`));
  }

  /** Rejects what is in flight; later requests fail at once. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#pending.keys()])
      this.#settle(id, new ClusterError('UNAVAILABLE', 'rpc closed'));
    await this.#transport.close();
  }

  #settle(id: string, outcome: Error | { data: unknown }): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome.data);
  }

  #receive(raw: string): void {
    if (raw.length > MAX_MESSAGE_BYTES) return this.#dropped('too large', { bytes: raw.length });
    // Unsigned, badly signed, stale or replayed: anyone who reaches Redis can publish here.
    const msg = this.#seal.open(raw);
    if ('dropped' in msg) return this.#dropped(msg.dropped, { bytes: raw.length, ...msg.detail });
    if (msg.to !== this.nodeId) return this.#dropped('addressed to another node', { to: msg.to });
    if (msg.kind === 'req') void this.#serve(msg);
    else this.#answer(msg);
  }

  #answer(msg: Exclude<RpcEnvelope, { kind: 'req' }>): void {
    const pending = this.#pending.get(msg.id);
    if (!pending) return this.#dropped('answer to no pending request', { from: msg.from });
    // Only the node we asked may answer: anything else is forged.
    if (msg.from !== pending.to)
      return this.#dropped('answer from the wrong node', { from: msg.from });
    if (msg.kind === 'err')
      return this.#settle(msg.id, remoteError(msg.error.code, msg.error.message));
    const checked = safeParseInput(this.#methods[pending.method]!.response, msg.data);
    if (!checked.success)
      return this.#settle(
        msg.id,
        new ClusterError('INVALID_RESPONSE', `bad ${pending.method} answer`),
      );
    this.#settle(msg.id, { data: checked.data });
  }

  async #serve(msg: Extract<RpcEnvelope, { kind: 'req' }>): Promise<void> {
    if (this.#opts.acceptFrom && !this.#opts.acceptFrom(msg.from))
      return this.#dropped('request from an unknown node', { from: msg.from });
    const reply = (
      body:
        { kind: 'ok'; data: unknown } | { kind: 'err'; error: { code: string; message: string } },
    ) => {
      const envelope = this.#seal.seal({
        v: 1,
        id: msg.id,
        from: this.nodeId,
        to: msg.from,
        ...body,
      });
      this.#transport.send(msg.from, envelope).catch((err: unknown) => {
        this.#opts.log.warn({ err, method: msg.method }, 'cluster: could not send an rpc answer');
      });
    };
    const schemas = Object.hasOwn(this.#methods, msg.method)
      ? this.#methods[msg.method]
      : undefined;
    const handler = this.#handlers.get(msg.method);
    if (!schemas || !handler) {
      this.#dropped('unknown method', { method: msg.method, from: msg.from });
      return reply({
        kind: 'err',
        error: { code: 'UNKNOWN_METHOD', message: `no method ${msg.method}` },
      });
    }
    const data = safeParseInput(schemas.request, msg.data);
    if (!data.success) {
      this.#dropped('request data has the wrong shape', { method: msg.method, from: msg.from });
      return reply({
        kind: 'err',
        error: { code: 'INVALID_REQUEST', message: `bad ${msg.method} request` },
      });
    }
    try {
      const result = schemas.response.parse(
        await handler(data.data as z.output<M[keyof M]['request']>, { from: msg.from }),
      );
      reply({ kind: 'ok', data: result });
    } catch (err) {
      if (err instanceof TuttiError)
        return reply({ kind: 'err', error: { code: err.code, message: err.message } });
      this.#opts.log.error({ err, method: msg.method }, 'cluster: rpc handler failed');
      reply({ kind: 'err', error: { code: 'INTERNAL', message: `${msg.method} failed` } });
    }
  }
}
