/** An error as a readable line: the message without its `CODE:` prefix. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^[A-Z_]+:\s*/, '');
  return String(err);
}
