import type { Transport } from './types.ts';

/**
 * A transport's ICE as its PeerConnection's stats tell it: the gathering state and how many
 * local and remote candidates (by type) and candidate pairs (by state) it has. For the
 * console when ICE does not start, and for the e2e tests' failure messages.
 */
export async function iceSummary(transport: Transport): Promise<Record<string, string | number>> {
  const summary: Record<string, string | number> = { gathering: transport.iceGatheringState };
  const add = (key: string): void => {
    summary[key] = ((summary[key] as number | undefined) ?? 0) + 1;
  };
  try {
    const report = await transport.getStats();
    report.forEach((s: { type?: string; state?: string; candidateType?: string }) => {
      if (s.type === 'candidate-pair') add(`pair:${s.state}`);
      else if (s.type === 'local-candidate' || s.type === 'remote-candidate')
        add(`${s.type}:${s.candidateType}`);
    });
  } catch {
    summary['stats'] = 'unavailable';
  }
  return summary;
}
