import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import { SvelteMap } from 'svelte/reactivity';

/**
 * The room and who is in it: the room's summary, ourselves (as the server knows us) and
 * everybody else keyed by peer id, plus who is speaking. Shape: docs/client.md.
 */
export class MembersStore {
  room: RoomSummary;
  self: PeerInfo;
  /** Everybody but ourselves, by peer id. */
  readonly peers = new SvelteMap<string, PeerInfo>();
  /** The server's dominant speaker (`media.activeSpeaker`). */
  activeSpeaker = $state<string | null>(null);
  /** Audio volume (dBov) by peer id, from the latest `media.audioLevels`. */
  levels = $state.raw<Record<string, number>>({});

  constructor(room: RoomSummary, self: PeerInfo) {
    this.room = $state.raw(room);
    this.self = $state.raw(self);
  }

  /** Everybody but ourselves, in join order. */
  readonly others = $derived([...this.peers.values()].sort((a, b) => a.joinedAt - b.joinedAt));

  /**
   * Who to highlight: the server's dominant speaker (sent on changes and once after
   * media.ready); while there is none, the loudest voice from the audio levels.
   */
  get speaker(): string | null {
    if (this.activeSpeaker) return this.activeSpeaker;
    let best: string | null = null;
    let loudest = -Infinity;
    for (const [peerId, volume] of Object.entries(this.levels)) {
      if (volume > loudest) {
        loudest = volume;
        best = peerId;
      }
    }
    return best;
  }

  /** Ourselves and the others (join order). */
  get count(): number {
    return this.peers.size + 1;
  }

  peer(id: string): PeerInfo | undefined {
    return id === this.self.id ? this.self : this.peers.get(id);
  }

  /** A (re)join answer replaces everything we knew about the room. */
  reset(room: RoomSummary, self: PeerInfo, peers: PeerInfo[]): void {
    this.room = room;
    this.self = self;
    this.peers.clear();
    for (const p of peers) if (p.id !== self.id) this.peers.set(p.id, p);
  }

  /**
   * A resume's snapshot: the same room seen again. Only what changed is touched, so the
   * tiles of members still there stay mounted (their video keeps playing).
   */
  sync(room: RoomSummary, self: PeerInfo, peers: PeerInfo[]): void {
    this.room = room;
    if (!samePeer(this.self, self)) this.self = self;
    const ids = new Set(peers.map((p) => p.id));
    for (const id of [...this.peers.keys()]) if (!ids.has(id)) this.remove(id);
    for (const p of peers) {
      const known = this.peers.get(p.id);
      if (p.id !== self.id && (!known || !samePeer(known, p))) this.peers.set(p.id, p);
    }
  }

  /** Adds or replaces a member; returns false for ourselves (not one of the others). */
  upsert(peer: PeerInfo): boolean {
    if (peer.id === this.self.id) return false;
    this.peers.set(peer.id, peer);
    return true;
  }

  /** Updates a member we know (an update for an unknown peer is dropped). */
  update(peer: PeerInfo): void {
    if (peer.id === this.self.id) this.self = peer;
    else if (this.peers.has(peer.id)) this.peers.set(peer.id, peer);
  }

  remove(peerId: string): boolean {
    if (!this.peers.delete(peerId)) return false;
    if (this.activeSpeaker === peerId) this.activeSpeaker = null;
    return true;
  }

  setLevels(levels: { peerId: string; volume: number }[]): void {
    const next: Record<string, number> = {};
    for (const l of levels) next[l.peerId] = l.volume;
    this.levels = next;
  }

  /** Does anybody else send media (so receiving goes first when we join)? */
  get anyoneSending(): boolean {
    for (const p of this.peers.values())
      if (p.camera !== 'none' || p.mic !== 'none' || p.screen) return true;
    return false;
  }
}

function samePeer(a: PeerInfo, b: PeerInfo): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof PeerInfo>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
