import { mulberry32 } from './rng';

/**
 * Deterministic clustered vectors, the shape trained item embeddings have (items that are
 * bought together point the same way; norms differ): for recall tests and benchmarks.
 * Untrained, randomly initialized embeddings are a poor stand-in: they have no structure and
 * nearly equal norms, which is the hardest case for a graph index (docs/benchmarks.md).
 */
export class ClusteredVectors {
  private readonly rand: () => number;
  private readonly centers: Float32Array;

  constructor(
    readonly dim: number,
    readonly clusters: number,
    seed: number,
  ) {
    this.rand = mulberry32(seed);
    this.centers = Float32Array.from({ length: clusters * dim }, () => this.gauss());
  }

  /** n vectors (row-major); vector i belongs to cluster `clusterOf(i)`, by default a random one. */
  sample(n: number, clusterOf?: (i: number) => number): Float32Array {
    const { dim } = this;
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const c = (clusterOf ? clusterOf(i) % this.clusters : Math.floor(this.rand() * this.clusters)) * dim;
      const scale = 0.5 + this.rand();
      for (let d = 0; d < dim; d++) out[i * dim + d] = scale * (this.centers[c + d]! + 0.7 * this.gauss());
    }
    return out;
  }

  private gauss(): number {
    return Math.sqrt(-2 * Math.log(this.rand() + 1e-12)) * Math.cos(2 * Math.PI * this.rand());
  }
}
