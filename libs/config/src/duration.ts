const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;

/**
 * "30s", "5m", "2h", "90d", "250ms" or a bare number of milliseconds → milliseconds; null when
 * the text is not such a duration. Whole numbers only: "1.5h" is better written "90m", and
 * refusing it avoids guessing how to round.
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : null;
}
