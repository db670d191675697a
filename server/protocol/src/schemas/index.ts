/**
 * `@tutti/protocol/schemas`: the zod side of the protocol, for the server and the tests.
 * The client never loads this entry (it would bundle zod).
 */
export * from './fields.ts';
export * from './requests.ts';
export * from './validate.ts';
export * from './games.ts';
export * from './moderation.ts';
export * from './captions.ts';
export * from './recording.ts';
export * from './e2ee.ts';
export * from './gameEvents.ts';
