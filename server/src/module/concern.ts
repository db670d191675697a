import type { FastifyInstance } from 'fastify';
import type { HandlerTable, RoomExtension } from '../rooms/ports.ts';

/**
 * What a concern module (chat, files, later games, recording…) adds to the server. app.ts
 * builds each module in order, then registers all contributions once, before listening:
 * no setters later, and the module never reaches into another's objects.
 */
export interface Concern {
  /** Its protoo requests. */
  handlers?: HandlerTable;
  /** What it adds to rooms: join answer fields, clean-up when rooms or connections go. */
  rooms?: RoomExtension;
  /** Registers its (encapsulated) HTTP route plugins, handing them their services as options. */
  http?(app: FastifyInstance): Promise<void>;
  /** After the server stopped listening: release buses, storage clients… */
  close?(): Promise<void>;
}
