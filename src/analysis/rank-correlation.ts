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
