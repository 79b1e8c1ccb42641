// Container resource strings from the spec: cpus ("2", "0.5", "500m") and memory ("16GiB", "512M").

/** CPUs in nano-CPUs (Docker's unit), or null when the string is not a CPU amount. */
export function parseCpus(s: string): number | null {
  const m = /^([0-9]+)(\.[0-9]{1,3}|m)?$/.exec(s);
  if (!m) return null;
  if (m[2] === 'm') return Number(m[1]) * 1_000_000;
  return Math.round(Number(`${m[1]}${m[2] ?? ''}`) * 1e9);
}

const units: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
};

/** Bytes from an SI/IEC size ("16GiB", "512M", "1.5GB"), or null. */
export function parseMemory(s: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$/.exec(s.trim());
  if (!m) return null;
  const factor = units[m[2]!.toLowerCase()];
  return factor === undefined ? null : Math.round(Number(m[1]) * factor);
}
