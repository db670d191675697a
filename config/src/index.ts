export { configSchema, type Config, type ConfigInput, type AuthProviderConfig } from './schema.ts';
export { loadConfig, envName } from './load.ts';
