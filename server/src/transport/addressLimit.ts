/**
 * Open sockets per client address (issue #10: 500 sockets from one address were taken).
 * The address is the one Fastify computes with trustProxy, as for the other limiters.
 */
export class ConnectionsPerAddress {
  readonly #open = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Whether a new connection from this address would be refused (a cheap early check). */
  isFull(address: string): boolean {
    return (this.#open.get(address) ?? 0) >= this.#max;
  }

  /** Counts a connection in; false (nothing counted) when the address is at its cap. */
  tryOpen(address: string): boolean {
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#max) return false;
    this.#open.set(address, open + 1);
    return true;
  }

  /** A connection counted by tryOpen closed. */
  release(address: string): void {
    const open = (this.#open.get(address) ?? 0) - 1;
    if (open > 0) this.#open.set(address, open);
    else this.#open.delete(address);
  }
}
