/** The game wire types (@tutti/protocol) and request schemas (@tutti/protocol/schemas). */
export * from '@tutti/protocol';
export { gameRequestSchemas, gameOptionsSchema, strokeSchema } from '@tutti/protocol/schemas';
