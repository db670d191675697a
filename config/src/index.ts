export { configSchema, type Config, type ConfigInput } from './schema.ts';
export { loadConfig, envName } from './load.ts';
