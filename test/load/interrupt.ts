/**
 * Two-stage Ctrl-C for the load tool and benches: the first SIGINT asks the run to wind
 * down (loops poll the returned function), the second exits at once with 130.
 */
export function watchInterrupt(message?: string): () => boolean {
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    if (message) process.stdout.write(`\n${message}\n`);
  });
  return () => interrupted;
}
