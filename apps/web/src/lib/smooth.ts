// Rates as a short running average. The agent reads per-app and per-protocol byte counters
// once a second; traffic that arrives in bursts (a video player fetching a segment every
// two seconds) then reads 0, 2x, 0, 2x… A time-weighted mean over a few seconds shows the
// steady rate the flow really has. No path aliases here: the unit test imports it directly.

/**
 * Each point becomes the time-weighted mean of the rates in the `windowMs` up to it (a rate
 * covers the interval since the previous sample). Missing points (null) count as no data.
 */
export function smoothRates(
  ts: readonly number[],
  ys: readonly (number | null)[],
  windowMs: number,
): (number | null)[] {
  const out: (number | null)[] = [];
  for (let k = 0; k < ts.length; k++) {
    if (ys[k] === null || ys[k] === undefined) {
      out.push(null);
      continue;
    }
    let sum = 0;
    let span = 0;
    for (let j = k; j >= 0 && ts[k]! - ts[j]! < windowMs; j--) {
      const y = ys[j];
      if (y === null || y === undefined) continue;
      const dt = j > 0 ? ts[j]! - ts[j - 1]! : k > 0 ? ts[1]! - ts[0]! : 1000;
      sum += y * dt;
      span += dt;
    }
    out.push(span > 0 ? sum / span : ys[k]!);
  }
  return out;
}
