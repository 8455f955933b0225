/** BS.1770-4 absolute gate (LUFS): blocks quieter than this never count. */
export const ABSOLUTE_GATE_LUFS = -70;
/** BS.1770-4 relative gate: blocks more than 10 LU below the absolute-gated loudness do not count. */
const RELATIVE_GATE_LU = -10;
/** Bin width (LU). Only blocks in the bin holding the relative threshold can be misjudged, by at most this much. */
const BIN_LU = 0.01;
/** Blocks louder than this share the top bin; exact energies are kept per bin, so nothing is lost but resolution. */
const TOP_LUFS = 10;
const BINS = Math.round((TOP_LUFS - ABSOLUTE_GATE_LUFS) / BIN_LU);

/** Mean-square energy to loudness (BS.1770-4 eq. 2, mono, channel weight 1). */
export function energyToLufs(energy: number): number {
  return -0.691 + 10 * Math.log10(energy);
}

/**
 * Gating blocks in constant memory (128 kB whatever the duration), like libebur128's histogram mode but finer and
 * keeping each bin's energy sum, so the gated mean is exact apart from the one bin straddling the relative threshold.
 */
export class GatingHistogram {
  private readonly energy = new Float64Array(BINS);
  private readonly count = new Float64Array(BINS);

  /** Adds one 400 ms block by its mean-square (K-weighted) energy. */
  add(energy: number): void {
    const lufs = energyToLufs(energy);
    if (!(lufs >= ABSOLUTE_GATE_LUFS)) return;
    const bin = Math.min(BINS - 1, Math.floor((lufs - ABSOLUTE_GATE_LUFS) / BIN_LU));
    this.energy[bin] = (this.energy[bin] as number) + energy;
    this.count[bin] = (this.count[bin] as number) + 1;
  }

  /** Integrated loudness of the blocks so far (LUFS); -Infinity when none passes the absolute gate. */
  integratedLufs(): number {
    const absolute = this.meanFrom(0);
    if (absolute === 0) return Number.NEGATIVE_INFINITY;
    const threshold = energyToLufs(absolute) + RELATIVE_GATE_LU;
    const bin = Math.max(0, Math.floor((threshold - ABSOLUTE_GATE_LUFS) / BIN_LU));
    return energyToLufs(this.meanFrom(bin));
  }

  /** Mean energy of the blocks in bins >= first (0 when there are none). */
  private meanFrom(first: number): number {
    let energy = 0;
    let count = 0;
    for (let bin = first; bin < BINS; bin++) {
      energy += this.energy[bin] as number;
      count += this.count[bin] as number;
    }
    return count === 0 ? 0 : energy / count;
  }
}
