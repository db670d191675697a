// `npm run admin -- <command>`: API keys on the command line (docs/admin-api.md).
//   keys:create [--name <text>]   a new key: prints its id and secret (the secret only now)
//   keys:list                     every key: id, name, created, revoked
//   keys:revoke <id>              its admin calls and join tokens are refused from now on
// The keys go where the server keeps its accounts: PostgreSQL when TUTTI_DATABASE_URL (or
// database.url) is set, else the SQLite file under data.dir.
import { parseArgs } from 'node:util';
import { loadConfig } from '@tutti/config';
import { createStore } from '../store/createStore.ts';
import { ApiKeys } from './keys.ts';

const USAGE = `usage: npm run admin -- keys:create [--name <text>] | keys:list | keys:revoke <id>`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (!command || !['keys:create', 'keys:list', 'keys:revoke'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const stores = await createStore({
    databaseUrl: config.database.url,
    dataDir: config.data.dir,
    postgres: {
      connectTimeoutMs: config.database.connectTimeoutMs,
      statementTimeoutMs: config.database.statementTimeoutMs,
    },
  });
  const keys = new ApiKeys(stores.auth);
  try {
    switch (command) {
      case 'keys:create': {
        const key = await keys.create((values.name ?? 'api key').slice(0, 128));
        if (values.json) console.log(JSON.stringify({ id: key.id, secret: key.secret }));
        else {
          console.log(`id:     ${key.id}`);
          console.log(`secret: ${key.secret}`);
          console.log('The secret is shown only now: store it. Admin API: Bearer <id>:<secret>.');
        }
        return 0;
      }
      case 'keys:list': {
        const list = await keys.list();
        if (values.json) console.log(JSON.stringify(list));
        else if (list.length === 0) console.log('no API keys');
        else
          for (const k of list) {
            const state = k.revokedAt ? `revoked ${new Date(k.revokedAt).toISOString()}` : 'active';
            console.log(`${k.id}  ${new Date(k.createdAt).toISOString()}  ${state}  ${k.name}`);
          }
        return 0;
      }
      default: {
        const id = rest[0];
        if (!id) {
          console.error(USAGE);
          return 2;
        }
        if (!(await keys.revoke(id))) {
          console.error(`no active key ${id}`);
          return 1;
        }
        console.log(`revoked ${id}`);
        return 0;
      }
    }
  } finally {
    await stores.close();
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  return 1;
});
