/**
 * Rank correlations between two samples of the same items (e.g. stand-alone accuracies and a
 * supernet's estimates of them) and their uncertainty. Pure.
 */

/**
 * Kendall's rank correlation tau-b between two samples: (C - D) / sqrt((n0 - n1)(n0 - n2)) over
 * all pairs, with C concordant and D discordant pairs, n0 = n(n-1)/2 and n1, n2 the pairs tied
 * in x and in y. tau-b, because benchmark tables have ties (equivalent networks share their
 * accuracies). O(n^2): exact and fast enough for the tables here (6561 rows: ~50 ms).
 * NaN when either sample is constant or has fewer than two values.
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`samples differ in length: ${x.length} vs ${y.length}`);
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - x[j]!;
      const dy = yi - y[j]!;
      if (dx === 0 || dy === 0) {
        if (dx === 0) tiedX++;
        if (dy === 0) tiedY++;
      } else if (dx > 0 === dy > 0) concordant++;
      else discordant++;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  return (concordant - discordant) / Math.sqrt((pairs - tiedX) * (pairs - tiedY));
}

/** Ranks 1..n (1 = smallest), ties sharing the mean of their ranks. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && x[order[end]!] === x[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson's correlation of two samples (NaN when either is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`samples differ in length: ${x.length} vs ${y.length}`);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]! / n;
    my += y[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson's correlation of the average ranks (exact with ties). */
export function spearmanRho(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Of the k items best by `x`, the fraction that are also among the k best by `y` (higher is
 * better in both). Ties at the k-th place are broken by position, first wins.
 */
export function topKOverlap(x: ArrayLike<number>, y: ArrayLike<number>, k: number): number {
  if (x.length !== y.length) throw new RangeError(`samples differ in length: ${x.length} vs ${y.length}`);
  if (!Number.isInteger(k) || k < 1 || k > x.length) throw new RangeError(`k must be an integer in [1, ${x.length}], got ${k}`);
  const top = (v: ArrayLike<number>) =>
    new Set(
      Array.from({ length: v.length }, (_, i) => i)
        .sort((a, b) => v[b]! - v[a]! || a - b)
        .slice(0, k),
    );
  const a = top(x);
  let shared = 0;
  for (const i of top(y)) if (a.has(i)) shared++;
  return shared / k;
}

/**
 * Standard deviation of Kendall's tau over samples of n independent items when the true tau is
 * 0: sqrt(2(2n + 5) / (9n(n - 1))). Under a real correlation the spread is smaller; see
 * jackknifeStandardError for an estimate from the data.
 */
export function kendallNullStandardError(n: number): number {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`n must be an integer >= 2, got ${n}`);
  return Math.sqrt((2 * (2 * n + 5)) / (9 * n * (n - 1)));
}

/**
 * Jackknife (leave-one-item-out) standard error of a statistic of paired samples:
 * sqrt((n - 1) / n * sum_i (s_(i) - mean s_(.))^2), with s_(i) the statistic without item i.
 */
export function jackknifeStandardError(x: ArrayLike<number>, y: ArrayLike<number>, statistic: (x: number[], y: number[]) => number): number {
  if (x.length !== y.length) throw new RangeError(`samples differ in length: ${x.length} vs ${y.length}`);
  const n = x.length;
  if (n < 3) return NaN;
  const xs = Array.from(x);
  const ys = Array.from(y);
  const leaveOneOut = xs.map((_, i) => statistic([...xs.slice(0, i), ...xs.slice(i + 1)], [...ys.slice(0, i), ...ys.slice(i + 1)]));
  const mean = leaveOneOut.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(((n - 1) / n) * leaveOneOut.reduce((a, v) => a + (v - mean) ** 2, 0));
}
