// The pure half of `npm run chaos`: which fault hits which operation at which point of each round (from a seed, so
// `--seed` replays a run), and the table of results. No I/O here; scripts/chaos/run.ts carries the rounds out.

export const faultKinds = [
  'kill-host-worker', // SIGKILL of a host's agent (worker-host-2: host queue only)
  'kill-control-plane-worker', // SIGKILL of the worker that runs the control-plane queue (worker-host-1)
  'kill-api', // SIGKILL of the API process
  'kill-temporal', // SIGKILL of the Temporal server
  'kill-primary', // docker kill of node n1's primary container
  'kill-replica', // docker kill of node n1's replica container
  'pause-primary', // docker pause of node n1's primary for 30 s
] as const;
export type FaultKind = (typeof faultKinds)[number];

export const operations = ['create', 'add-node', 'switchover', 'backup', 'restore'] as const;
export type Operation = (typeof operations)[number];

/** Process faults: a supervised process is SIGKILLed and its supervisor starts it again. */
export const processOf: Partial<Record<FaultKind, string>> = {
  'kill-host-worker': 'worker-host-2',
  'kill-control-plane-worker': 'worker-host-1',
  'kill-api': 'api',
  'kill-temporal': 'temporal',
};

/**
 * About how many task-log entries each operation writes (its node task's, for a restore): a round's point is a
 * fraction of it, so points spread over the whole operation. Entry 0 is the request itself.
 */
export const typicalLogEntries: Record<Operation, number> = { create: 30, 'add-node': 40, switchover: 12, backup: 8, restore: 22 };

export interface Round {
  /** 1-based. */
  index: number;
  fault: FaultKind;
  operation: Operation;
  /** The fault lands once the task's log has this many entries (0: together with the request). */
  point: number;
}

/** mulberry32: a small, well-spread 32-bit PRNG; the same seed gives the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Cycles through every item in a fresh random order per cycle: each appears once before any appears twice. */
function cycling<T>(xs: readonly T[], rand: () => number): () => T {
  let pool: T[] = [];
  return () => {
    if (pool.length === 0) pool = shuffled(xs, rand);
    return pool.shift()!;
  };
}

/**
 * The rounds of a run: faults and operations each cycle through every kind in a seeded order (so 7 rounds cover every
 * fault and 5 every operation), and each point is uniform over the operation's typical log. `only` narrows the kinds
 * (the CI test runs a few).
 */
export function planRounds(seed: number, rounds: number, only: { faults?: readonly FaultKind[]; operations?: readonly Operation[] } = {}): Round[] {
  const rand = prng(seed);
  const nextFault = cycling(only.faults ?? faultKinds, rand);
  const nextOperation = cycling(only.operations ?? operations, rand);
  return Array.from({ length: rounds }, (_, i) => {
    const fault = nextFault();
    const operation = nextOperation();
    return { index: i + 1, fault, operation, point: Math.floor(rand() * (typicalLogEntries[operation] + 1)) };
  });
}

export interface RoundResult extends Round {
  /** What the point turned out to be: "request", or the log entry the fault followed (shortened). */
  at: string;
  ok: boolean;
  /** completed, completed after a re-submit, or what failed. */
  outcome: string;
  /** From the fault until the task had ended, the database and every instance were available and the checks passed (ms). */
  recoverMs: number | null;
  /** Acknowledged rows of the round's writer. */
  rows: number;
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** The table `npm run chaos` prints: one line per round, then the total. */
export function renderTable(seed: number, results: RoundResult[]): string {
  const head = ['#', 'fault', 'point', 'operation', 'outcome', 'recover', 'rows'];
  const widths = [3, 26, 34, 10, 48, 8, 5];
  const line = (cells: string[]) => cells.map((c, i) => (i === 5 || i === 6 || i === 0 ? c.padStart(widths[i]!) : pad(c, widths[i]!))).join('  ').trimEnd();
  const rows = results.map((r) => line([
    String(r.index), r.fault, `${r.point}: ${r.at}`, r.operation, `${r.ok ? 'ok' : 'FAILED'} ${r.outcome}`,
    r.recoverMs === null ? '-' : `${(r.recoverMs / 1000).toFixed(1)} s`, String(r.rows),
  ]));
  const passed = results.filter((r) => r.ok).length;
  return [
    `chaos seed ${seed}: ${results.length} rounds`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows,
    `${passed} of ${results.length} rounds passed${passed === results.length ? '' : `; failed: ${results.filter((r) => !r.ok).map((r) => r.index).join(', ')}`}`,
  ].join('\n');
}

/** `--rounds N --seed S`: a seed is any unsigned 32-bit integer; none given, one is drawn (and printed). */
export function parseChaosArgs(values: { rounds?: string; seed?: string }, draw: () => number): { rounds: number; seed: number } {
  const rounds = Number(values.rounds ?? '10');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a positive integer, not ${values.rounds}`);
  const seed = values.seed === undefined ? draw() >>> 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`--seed: an integer from 0 to ${0xffffffff}, not ${values.seed}`);
  return { rounds, seed };
}
