// Days and months of the ledger: the user's local calendar (a daily cap resets at local midnight).
const pad = (n: number) => String(n).padStart(2, '0');
const dayCache = new Map<number, string>();

export function dayOf(ts: number): string {
  const bucket = Math.floor(ts / 900_000); // every UTC offset is a multiple of 15 minutes
  let d = dayCache.get(bucket);
  if (d === undefined) {
    const x = new Date(ts);
    d = `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}`;
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(bucket, d);
  }
  return d;
}

export const monthOf = (ts: number) => dayOf(ts).slice(0, 7);
