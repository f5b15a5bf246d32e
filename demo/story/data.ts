// Deterministic demo data: the same seed gives the same people, purchases and behaviour.

/** mulberry32: a small, fast, seedable PRNG. */
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

const FIRST = ['Sara', 'Amir', 'Lena', 'Jonas', 'Maryam', 'Noah', 'Elif', 'Lucas', 'Zahra', 'Emma', 'Darius', 'Mia', 'Omid', 'Chloe', 'Reza', 'Ava', 'Kian', 'Nora', 'Leo', 'Yasmin', 'Hugo', 'Ines', 'Arash', 'Sofia'];
const LAST = ['Karimi', 'Schmidt', 'Rossi', 'Dubois', 'Novak', 'Ahmadi', 'Jensen', 'García', 'Müller', 'Tehrani', 'Smith', 'Kowalski', 'Moradi', 'Silva', 'Berg', 'Costa'];
const COUNTRIES = ['DE', 'FR', 'IR', 'NL', 'SE', 'IT', 'ES', 'GB', 'US', 'CA'];

export interface DemoContact {
  index: number;
  email: string;
  firstName: string;
  lastName: string;
  country: string;
  signupDate: string;
}

/** `n` contacts whose addresses carry the run tag, so runs never collide in the shared SES store. */
export function makeContacts(n: number, runTag: string, seed = 7): DemoContact[] {
  const rnd = prng(seed);
  const day = 86_400_000;
  const base = Date.UTC(2025, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const firstName = FIRST[Math.floor(rnd() * FIRST.length)]!;
    const lastName = LAST[Math.floor(rnd() * LAST.length)]!;
    const local = `${firstName}.${lastName}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '');
    return {
      index: i,
      email: `${local}.${i}@${runTag}.demo.payam.test`,
      firstName,
      lastName,
      country: COUNTRIES[Math.floor(rnd() * COUNTRIES.length)]!,
      signupDate: new Date(base + Math.floor(rnd() * 300) * day).toISOString().slice(0, 10),
    };
  });
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function toCsv(contacts: DemoContact[]): string {
  const rows = contacts.map((c) => [c.email, c.firstName, c.lastName, c.country, c.signupDate].map(csvCell).join(','));
  return ['email,first_name,last_name,country,signup_date', ...rows].join('\n') + '\n';
}

/** Purchases (amounts per contact index): some buyers cross 500 (silver) and 2000 (gold). */
export function makePurchases(n: number, seed = 11): Map<number, number[]> {
  const rnd = prng(seed);
  const out = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.02) out.set(i, [900, 750, 600]); // gold: 2250
    else if (r < 0.08) out.set(i, [320, 280]); // silver: 600
    else if (r < 0.2) out.set(i, [45 + Math.floor(rnd() * 100)]); // red
  }
  return out;
}

export type Tier = 'gold' | 'silver' | 'red';
export function tierOf(total: number): Tier | null {
  return total >= 2000 ? 'gold' : total >= 500 ? 'silver' : total >= 1 ? 'red' : null;
}
