// An S3 server (s3rver) as a process of its own, so a test can kill it and start it again:
// `node s3rverProcess.ts <port> <dir>`. Buckets and objects are kept in <dir>.
import S3rverModule from 's3rver';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

const [port, directory] = process.argv.slice(2);
if (!port || !directory) throw new Error('usage: s3rverProcess.ts <port> <dir>');
const S3rver = S3rverModule as unknown as S3rverCtor;
await new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory }).run();
