/** The one protocol module: imported by the server and (types + schemas) by the client. */
export * from './errors.ts';
export * from './common.ts';
export * from './requests.ts';
export * from './notifications.ts';
