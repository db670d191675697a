import { createHash, randomBytes } from 'node:crypto';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { MemberChannel, PreparedNotification } from '../rooms/ports.ts';
import { ResumableChannel, type SocketChannel } from './ResumableChannel.ts';
import { UnconfirmedResumes, type ResumeMedia } from './unconfirmedResumes.ts';

export interface ResumeOptions {
  /** This node's id: tokens name it, so another node of a cluster knows whom to ask. */
  nodeId: string;
  /** How long a member whose socket dropped keeps its membership (0: none). */
  graceMs: number;
  /** Notifications kept for a detached member, bytes; past it the membership ends. */
  maxBufferedBytes: number;
  /** Whether the channel sits in a room now: only a member is worth keeping. */
  isMember: (channel: MemberChannel) => boolean;
  /** False while members should not be held (a draining node sends them elsewhere). */
  holdMembers?: () => boolean;
  /** A channel is finally closed: the rooms drop the member, concerns their state. */
  onClosed: (channel: MemberChannel) => void;
  log: Logger;
}

const GONE = 'the membership is gone (expired, left or resumed elsewhere); join again';
/**
 * How long an unconfirmed resume's token stays good while its socket looks attached, at
 * least: the client finds a dead socket within 12 s (a ping every 4 s, 8 s to answer) and
 * retries a moment later, while the server may not notice a half-open one for 50 s.
 */
const UNCONFIRMED_ATTACHED_MIN_MS = 30_000;

/**
 * Membership resume (docs/reconnect.md): every socket's channel is a ResumableChannel; a
 * member gets a resume token with each join and resume answer. When its socket drops, the
 * member stays in its room, detached, for the grace period; a new socket presenting the
 * token takes it over (same id, same media, no leave/join for the others). Tokens are 32
 * random bytes, kept only as SHA-256 hashes, one live token per member, spent on use; the
 * last one spent resumes the same member again until the client confirms the answer.
 */
export class ResumeSessions {
  readonly #opts: ResumeOptions;
  /** `.` and this node's id, base64url: every token's tail. */
  readonly #tail: string;
  readonly #channels = new Map<string, ResumableChannel>();
  /** Token hash → channel id. */
  readonly #tokens = new Map<string, string>();
  /** Channel id → its live token's hash. */
  readonly #tokenOf = new Map<string, string>();
  /** Channel id → the grace timer of a detached member. */
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  /** Spent tokens whose resume answer may not have reached the client. */
  readonly #unconfirmed = new UnconfirmedResumes();

  constructor(opts: ResumeOptions) {
    this.#opts = opts;
    this.#tail = `.${Buffer.from(opts.nodeId).toString('base64url')}`;
  }

  /** The node a token was issued by (undefined: a token without a tail, this node's). */
  static issuer(token: string): string | undefined {
    const dot = token.indexOf('.');
    return dot < 0 ? undefined : Buffer.from(token.slice(dot + 1), 'base64url').toString();
  }

  /** Whether `token` resumes a member here (live, or spent by a resume not yet confirmed). */
  holds(token: string): boolean {
    return this.#lookup(hashToken(token)) !== undefined;
  }

  /**
   * How long a spent token may still resume its member at most: while attached, then to the
   * end of a grace begun by then (another node that handed the member over forwards for as long).
   */
  get unconfirmedMs(): number {
    return this.#attachedWindowMs() + this.#opts.graceMs;
  }

  /** A new socket: its own channel (a member's channel once it joins). */
  open(socket: SocketChannel): ResumableChannel {
    const channel = new ResumableChannel(socket, {
      maxBufferedBytes: this.#opts.maxBufferedBytes,
      onFinished: (ch) => this.#finished(ch),
    });
    this.#channels.set(channel.id, channel);
    return channel;
  }

  /** A fresh token for this member (replacing its last one); undefined when there is no grace. */
  issue(channel: MemberChannel): string | undefined {
    if (this.#opts.graceMs <= 0 || !this.#channels.has(channel.id)) return undefined;
    this.#revoke(channel.id);
    const token = randomBytes(32).toString('base64url') + this.#tail;
    const hash = hashToken(token);
    this.#tokens.set(hash, channel.id);
    this.#tokenOf.set(channel.id, hash);
    return token;
  }

  /**
   * `socket` closed. If it still carried `channel`, it `dropped` (no close frame: a network
   * blip, not a goodbye) and the channel is a member nobody asked to close, the member is
   * detached and waits out the grace; otherwise it ends now.
   */
  socketClosed(channel: ResumableChannel, socket: SocketChannel, dropped: boolean): void {
    if (channel.closed || !channel.carries(socket)) return; // Replaced by a resume.
    const keep =
      dropped &&
      !channel.closing &&
      this.#tokenOf.has(channel.id) &&
      (this.#opts.holdMembers?.() ?? true) &&
      this.#opts.isMember(channel);
    if (!keep) {
      channel.finish();
      return;
    }
    channel.detach();
    // A resume answer that went down with this socket: its token is good for the grace.
    this.#unconfirmed.detached(channel.id, Date.now(), this.#opts.graceMs);
    const timer = setTimeout(() => {
      this.#opts.log.info({ peerId: channel.id }, 'resume grace over: member leaves');
      channel.finish();
    }, this.#opts.graceMs);
    timer.unref();
    this.#graceTimers.set(channel.id, timer);
    this.#opts.log.info({ peerId: channel.id }, 'signaling socket dropped: membership kept');
  }

  /**
   * session.resume on `from` (a fresh socket's channel, in no room): the token's member is
   * carried by `from`'s socket from now on. Returns it, its next token and what to say of
   * the media. The token is spent whatever the outcome (but resumes the same member again
   * until confirmed); RESUME_FAILED when it is unknown or its membership ended.
   */
  resume(
    token: string,
    from: MemberChannel,
  ): { channel: ResumableChannel; token: string; media: ResumeMedia } {
    const fresh = this.#channels.get(from.id);
    if (!fresh || fresh.current !== fresh) throw new TuttiError('INTERNAL', 'unknown connection');
    if (this.#opts.isMember(fresh)) {
      throw new TuttiError('ALREADY_JOINED', 'this connection is in a room already');
    }
    const hash = hashToken(token);
    const found = this.#lookup(hash);
    if (found) this.#revoke(found.id);
    const target = found && this.#channels.get(found.id);
    if (!target || target.closed || target === fresh) throw new TuttiError('RESUME_FAILED', GONE);
    if (!this.#opts.isMember(target)) {
      target.finish(); // Whatever is left of it (a detached non-member) goes now.
      throw new TuttiError('RESUME_FAILED', GONE);
    }
    clearTimeout(this.#graceTimers.get(target.id));
    this.#graceTimers.delete(target.id);
    const wasAttached = target.attached;
    target.adopt(fresh);
    this.#spent(hash, target.id, found.media);
    this.#opts.log.info(
      { peerId: target.id, wasAttached, again: found.again },
      'membership resumed on a new socket',
    );
    return { channel: target, token: this.issue(target)!, media: found.media };
  }

  /** The client has the answer of `channel`'s last resume: the token it spent is dead. */
  confirm(channel: MemberChannel): void {
    this.#unconfirmed.forget(channel.id);
  }

  /**
   * Another node presents the token (hashed) of one of our members: it takes the membership
   * over. Like resume(), the token is spent whatever the outcome; RESUME_FAILED when it is
   * unknown or its membership ended. Returns the member's channel, its grace stopped; the
   * caller takes the member out of its room (silently) and finishes the channel, in this tick.
   */
  handOver(hash: string): ResumableChannel {
    const id = this.#lookup(hash)?.id;
    if (id !== undefined) this.#revoke(id);
    const target = id === undefined ? undefined : this.#channels.get(id);
    if (!target || target.closed) throw new TuttiError('RESUME_FAILED', GONE);
    if (!this.#opts.isMember(target)) {
      target.finish();
      throw new TuttiError('RESUME_FAILED', GONE);
    }
    clearTimeout(this.#graceTimers.get(target.id));
    this.#graceTimers.delete(target.id);
    this.#opts.log.info({ peerId: id, attached: target.attached }, 'membership handed over');
    return target;
  }

  /**
   * A membership handed over by another node lands on `from`'s socket (a fresh socket in no
   * room): a channel under the member's `id` carries it from now on, `seat` puts it in its
   * room (synchronously: nothing is sent to it before), then `kept` (what the other node
   * kept for it) is replayed. Returns the channel and its next token; `spent` (the hash of
   * the token the client presented) resumes it here again, with a rebuild, until confirmed.
   */
  carry(
    id: string,
    from: MemberChannel,
    seat: (channel: ResumableChannel) => void,
    kept: readonly PreparedNotification[],
    spent: string,
  ): { channel: ResumableChannel; token: string } {
    const fresh = this.#channels.get(from.id);
    if (!fresh || fresh.current !== fresh || fresh.closed || !fresh.attached) {
      throw new TuttiError('RESUME_FAILED', 'connection closed');
    }
    if (this.#opts.isMember(fresh)) {
      throw new TuttiError('ALREADY_JOINED', 'this connection is in a room already');
    }
    if (this.#channels.has(id)) throw new TuttiError('RESUME_FAILED', 'this member is here');
    const channel = ResumableChannel.carrying(id, fresh, {
      maxBufferedBytes: this.#opts.maxBufferedBytes,
      onFinished: (ch) => this.#finished(ch),
    });
    this.#channels.set(id, channel);
    try {
      seat(channel);
    } catch (err) {
      channel.finish();
      throw err;
    }
    for (const prepared of kept) void channel.notifyPrepared(prepared);
    this.#spent(spent, id, 'rebuild');
    this.#opts.log.info({ peerId: id }, 'membership resumed from another node');
    return { channel, token: this.issue(channel)! };
  }

  /** Members waiting out their grace (metrics, tests). */
  get detached(): number {
    return this.#graceTimers.size;
  }

  /** Shutdown: no grace timer outlives the server. */
  close(): void {
    for (const timer of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
    for (const channel of [...this.#channels.values()]) if (!channel.attached) channel.finish();
  }

  #finished(channel: ResumableChannel): void {
    this.#channels.delete(channel.id);
    this.#revoke(channel.id);
    this.#unconfirmed.forget(channel.id);
    clearTimeout(this.#graceTimers.get(channel.id));
    this.#graceTimers.delete(channel.id);
    try {
      this.#opts.onClosed(channel);
    } catch (err) {
      this.#opts.log.error({ err, peerId: channel.id }, 'peer cleanup failed');
    }
  }

  /**
   * The member a token resumes: the one it is the live token of, or the one whose last
   * resume spent it, while that resume is unconfirmed (docs/reconnect.md, "a lost answer").
   */
  #lookup(hash: string): { id: string; media: ResumeMedia; again: boolean } | undefined {
    const id = this.#tokens.get(hash);
    if (id !== undefined) return { id, media: 'kept', again: false };
    const spent = this.#unconfirmed.find(hash);
    if (!spent || Date.now() >= spent.until) return undefined;
    return { id: spent.memberId, media: spent.media, again: true };
  }

  #spent(hash: string, memberId: string, media: ResumeMedia): void {
    const until = Date.now() + this.#attachedWindowMs();
    this.#unconfirmed.spent(hash, { memberId, until, media });
  }

  #attachedWindowMs(): number {
    return Math.max(this.#opts.graceMs, UNCONFIRMED_ATTACHED_MIN_MS);
  }

  #revoke(channelId: string): void {
    const hash = this.#tokenOf.get(channelId);
    if (hash === undefined) return;
    this.#tokenOf.delete(channelId);
    this.#tokens.delete(hash);
  }
}

/** What the server keeps of a token (and what a node asks another about). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
