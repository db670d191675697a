import { readFileSync, existsSync } from 'node:fs';
import { configSchema, type Config } from './schema.ts';

/**
 * Builds the Config from, in rising priority: schema defaults, a JSON file
 * (TUTTI_CONFIG or config/local.json), explicit overrides (tests), and TUTTI_* environment
 * variables named after the path (media.listenIp → TUTTI_MEDIA_LISTEN_IP). PORT is honoured too.
 * Throws one readable error listing every bad setting.
 */
export function loadConfig(
  overrides: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const merged = deepMerge(readFileLayer(env), overrides);
  applyEnv(merged, env);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

function readFileLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const path = env.TUTTI_CONFIG ?? new URL('../local.json', import.meta.url).pathname;
  if (!existsSync(path)) {
    if (env.TUTTI_CONFIG) throw new Error(`TUTTI_CONFIG points to a missing file: ${path}`);
    return {};
  }
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function envName(path: string[]): string {
  return (
    'TUTTI_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
  );
}

/** Walks the schema's shape so every setting has an env name, even ones absent from the file. */
function applyEnv(target: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  if (env.PORT && !env.TUTTI_SERVER_PORT) setPath(target, ['server', 'port'], env.PORT);
  // Shorter names the docs use (the path-derived TUTTI_WEBHOOKS_* ones win when both are set).
  for (const [alias, path] of ENV_ALIASES) {
    const value = env[alias];
    if (value && !env[envName(path)]) setPath(target, path, value);
  }
  for (const path of leafPaths(configSchema)) {
    const value = env[envName(path)];
    if (value !== undefined && value !== '') setPath(target, path, value);
  }
}

const ENV_ALIASES: readonly [string, string[]][] = [
  ['TUTTI_WEBHOOK_URLS', ['webhooks', 'urls']],
  ['TUTTI_WEBHOOK_SECRET', ['webhooks', 'secret']],
];

type Shape = { shape?: Record<string, unknown>; def?: { innerType?: unknown; type?: string } };

function unwrap(schema: unknown): Shape {
  let s = schema as Shape;
  while (!s.shape && s.def?.innerType) s = s.def.innerType as Shape;
  return s;
}

function leafPaths(schema: unknown, prefix: string[] = []): string[][] {
  const s = unwrap(schema);
  if (!s.shape) return [prefix];
  return Object.entries(s.shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export { envName };
