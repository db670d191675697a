/** One measured run of the chat bench (single node: same-node figures only). */
export interface ChatRun {
  label: string;
  /** Every delivery arrived (≥ 99 %) and no send failed. */
  ok: boolean;
  /** Same-node (single node: every) delivery latency, ms. */
  p50: number;
  p99: number;
  crossP50: number;
  crossP99: number;
  /** chat.send → its answer, ms. */
  ackP99: number;
  /** Share of a core per server process. */
  serverCpu: number[];
  peersCpu: number;
  otherCpu: number;
  received: number;
  expected: number;
  /** The server processes' CPU time per delivery, µs. */
  usPerDelivery: number;
  /** The server processes' write syscalls per delivery (procIo.ts). */
  writesPerDelivery: number;
}

/** The server's environment for the baseline: `ws` frames every send itself. */
export const BASELINE_ENV: Record<string, string> = {
  TUTTI_SIGNALING_PREFRAME_BROADCASTS: 'false',
};

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** The runs side by side, and each pre-framed run against the baseline run before it. */
export function printComparison(runs: ChatRun[]): void {
  console.log('[bench:chat] ── comparison (same run, back to back)');
  console.log(
    '[bench:chat] run | p50 / p99 ms | cross-node p50 / p99 ms | answer p99 ms | server µs per delivery | server writes per delivery | server % | peers % | other %',
  );
  for (const r of runs) {
    console.log(
      `[bench:chat] ${r.label} | ${ms(r.p50)} / ${ms(r.p99)} | ${ms(r.crossP50)} / ${ms(r.crossP99)} | ${ms(r.ackP99)} | ${r.usPerDelivery.toFixed(2)} | ${r.writesPerDelivery.toFixed(2)} | ${r.serverCpu.map((c) => (c * 100).toFixed(0)).join(' + ')} | ${(r.peersCpu * 100).toFixed(0)} | ${(r.otherCpu * 100).toFixed(0)}${r.ok ? '' : ' | INCOMPLETE'}`,
    );
  }
  for (let i = 1; i < runs.length; i += 2) {
    const base = runs[i - 1]!;
    const next = runs[i]!;
    const cross = Number.isFinite(next.crossP99)
      ? `, cross-node p99 ×${(next.crossP99 / base.crossP99).toFixed(2)}`
      : '';
    console.log(
      `[bench:chat] ratio new ÷ baseline (pair ${(i + 1) / 2}): server CPU per delivery ×${(next.usPerDelivery / base.usPerDelivery).toFixed(2)}, p99 ×${(next.p99 / base.p99).toFixed(2)}${cross}`,
    );
  }
}
