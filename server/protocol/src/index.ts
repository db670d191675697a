/**
 * `@tutti/protocol`: Tutti's signaling protocol, with no runtime dependency (no zod, no
 * mediasoup): the client bundles it. The zod schemas are `@tutti/protocol/schemas`.
 */
export * from './errors.ts';
export * from './common.ts';
export * from './text.ts';
export * from './mediaParameters.ts';
export * from './requests.ts';
export * from './notifications.ts';
export * from './games.ts';
export * from './moderation.ts';
export * from './captions.ts';
export * from './recording.ts';
export * from './e2ee.ts';
export * from './frames.ts';
export * from './client.ts';
export * from './frameLink.ts';
export * from './protooLink.ts';
