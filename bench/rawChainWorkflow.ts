/** Baseline for bench/orchestration.ts: a bare Temporal workflow running n no-op activities in sequence. */
import { proxyActivities } from '@temporalio/workflow';

const { nothing } = proxyActivities<{ nothing(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function rawChain(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nothing();
}
