/**
 * Rectangular linear assignment with forbidden pairs: shortest augmenting paths with dual potentials (the
 * Jonker-Volgenant family; the rectangular form as Crouse, "On implementing 2D rectangular assignment algorithms",
 * IEEE TAES 2016, describes it). O(n^2 m) worst case, exact.
 *
 * Semantics: among all assignments that use only finite pairs, pick one with the most pairs, and among those the
 * least total cost. A forbidden pair (+Infinity or NaN) is never assigned: when a row cannot be placed, it is left
 * unassigned. Internally each row may fall back to a private "unassigned" column priced above any possible sum of
 * real costs, so the optimum first maximises the number of real pairs; those columns are never reported and their
 * price never enters a returned cost.
 */
import { AerieError } from '../../shared/errors.js';

/** An optimal assignment. `-1` marks an unassigned row or column. */
export interface LapSolution {
  /** rowToCol[i] = column of row i, or -1. Length rows. */
  readonly rowToCol: Int32Array;
  /** colToRow[j] = row of column j, or -1. Length cols. */
  readonly colToRow: Int32Array;
  /** Number of assigned pairs. */
  readonly assigned: number;
  /** Sum of the costs of the assigned pairs (only finite entries; 0 when nothing is assigned). */
  readonly totalCost: number;
}

/**
 * Solve min-cost assignment of a rows x cols cost matrix (row-major, `cost[i * cols + j]`). Either side may be the
 * longer. +Infinity and NaN entries are forbidden pairs; -Infinity is refused (it has no optimum).
 * Deterministic: the same matrix always gives the same answer, ties included.
 */
export function solveAssignment(cost: Float64Array | readonly number[], rows: number, cols: number): LapSolution {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || cost.length !== rows * cols) {
    throw new AerieError('ASSIGNMENT_INPUT_INVALID', `cost matrix has ${cost.length} entries, not ${rows} x ${cols}`, {
      rows,
      cols,
      length: cost.length,
    });
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  if (rows === 0 || cols === 0) return { rowToCol, colToRow, assigned: 0, totalCost: 0 };

  // Work on a copy with rows <= cols (transposed if needed) and forbidden pairs as +Infinity.
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const c = new Float64Array(n * m);
  let anyForbidden = false;
  let minFinite = Number.POSITIVE_INFINITY;
  let maxFinite = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let v = cost[i * cols + j];
      if (v === Number.NEGATIVE_INFINITY) {
        throw new AerieError('ASSIGNMENT_INPUT_INVALID', `cost[${i}][${j}] is -Infinity`, { row: i, col: j });
      }
      if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
        v = Number.POSITIVE_INFINITY;
        anyForbidden = true;
      } else {
        if (v < minFinite) minFinite = v;
        if (v > maxFinite) maxFinite = v;
      }
      c[transpose ? j * m + i : i * m + j] = v;
    }
  }
  if (minFinite === Number.POSITIVE_INFINITY) return { rowToCol, colToRow, assigned: 0, totalCost: 0 };

  // The price of leaving a row unassigned: above (n + 1) times the spread of real costs, so one more real pair
  // always beats any change in the real costs of the others.
  const unassignedPrice = anyForbidden ? (n + 1) * (maxFinite - minFinite + Math.abs(maxFinite) + 1) : 0;
  const { col4row } = shortestAugmentingPaths(c, n, m, anyForbidden, unassignedPrice);

  let assigned = 0;
  let totalCost = 0;
  for (let i = 0; i < n; i++) {
    const j = col4row[i];
    if (j < 0 || j >= m) continue; // the private "unassigned" column
    const r = transpose ? j : i;
    const k = transpose ? i : j;
    rowToCol[r] = k;
    colToRow[k] = r;
    assigned++;
    totalCost += c[i * m + j];
  }
  return { rowToCol, colToRow, assigned, totalCost };
}

/**
 * The core on an n x m matrix with n <= m. With `withFallback`, column m + i is row i's private fallback column
 * priced `fallbackPrice` (forbidden to every other row); it is kept out of the scanned column list and handled
 * beside it, so a dense problem without forbidden pairs pays nothing for it.
 */
function shortestAugmentingPaths(
  c: Float64Array,
  n: number,
  m: number,
  withFallback: boolean,
  fallbackPrice: number,
): { col4row: Int32Array } {
  const totalCols = withFallback ? m + n : m;
  const u = new Float64Array(n);
  const v = new Float64Array(totalCols);
  const col4row = new Int32Array(n).fill(-1);
  const row4col = new Int32Array(totalCols).fill(-1);
  const shortest = new Float64Array(totalCols);
  const path = new Int32Array(totalCols);
  const remaining = new Int32Array(m);
  const scannedRows = new Int32Array(n);
  const scannedCols = new Int32Array(totalCols);
  const inSR = new Uint8Array(n);
  const inSC = new Uint8Array(totalCols);
  // Fallback columns whose label was set in this search (at most one per scanned row).
  const touchedFallback = new Int32Array(n);

  for (let curRow = 0; curRow < n; curRow++) {
    shortest.fill(Number.POSITIVE_INFINITY);
    let numRemaining = m;
    for (let it = 0; it < m; it++) remaining[it] = m - it - 1;
    let nSR = 0;
    let nSC = 0;
    let nTouched = 0;
    let minVal = 0;
    let i = curRow;
    let sink = -1;

    while (sink === -1) {
      inSR[i] = 1;
      scannedRows[nSR++] = i;
      let lowest = Number.POSITIVE_INFINITY;
      let lowestAt = -1; // index into remaining, or -(k + 2) for touchedFallback[k]
      const base = minVal - u[i];
      const rowOff = i * m;
      for (let it = 0; it < numRemaining; it++) {
        const j = remaining[it];
        const r = base + c[rowOff + j] - v[j];
        if (r < shortest[j]) {
          path[j] = i;
          shortest[j] = r;
        }
        // Ties go to a free column: it ends the search sooner.
        if (shortest[j] < lowest || (shortest[j] === lowest && row4col[j] === -1)) {
          lowest = shortest[j];
          lowestAt = it;
        }
      }
      if (withFallback) {
        const f = m + i;
        if (inSC[f] === 0) {
          const r = base + fallbackPrice - v[f];
          if (r < shortest[f]) {
            if (shortest[f] === Number.POSITIVE_INFINITY) touchedFallback[nTouched++] = f;
            path[f] = i;
            shortest[f] = r;
          }
        }
        for (let k = 0; k < nTouched; k++) {
          const f2 = touchedFallback[k];
          if (inSC[f2] === 1) continue;
          // A fallback column is always free (only its own row reaches it); on a tie a free real column wins.
          const tieWins = shortest[f2] === lowest && lowestAt >= 0 && row4col[remaining[lowestAt]] !== -1;
          if (shortest[f2] < lowest || tieWins) {
            lowest = shortest[f2];
            lowestAt = -(k + 2);
          }
        }
      }
      if (lowest === Number.POSITIVE_INFINITY) {
        // Unreachable with the fallback columns; without them every entry is finite. Kept as a guard.
        throw new AerieError('ASSIGNMENT_INPUT_INVALID', 'no augmenting path (internal)', { row: curRow });
      }
      minVal = lowest;
      let j: number;
      if (lowestAt >= 0) {
        j = remaining[lowestAt];
        remaining[lowestAt] = remaining[--numRemaining];
      } else {
        j = touchedFallback[-lowestAt - 2];
      }
      inSC[j] = 1;
      scannedCols[nSC++] = j;
      if (row4col[j] === -1) sink = j;
      else i = row4col[j];
    }

    // Update the duals so reduced costs stay non-negative and zero along the new matching.
    u[curRow] += minVal;
    for (let k = 0; k < nSR; k++) {
      const r = scannedRows[k];
      inSR[r] = 0;
      if (r !== curRow) u[r] += minVal - shortest[col4row[r]];
    }
    for (let k = 0; k < nSC; k++) {
      const j = scannedCols[k];
      inSC[j] = 0;
      v[j] -= minVal - shortest[j];
    }

    // Augment along the path back to curRow.
    let j = sink;
    for (;;) {
      const r = path[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      if (r === curRow) break;
      j = prev;
    }
  }
  return { col4row };
}
