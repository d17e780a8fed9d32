/** Architecture of the transformer (saved with the artifact). */
export interface NetConfig {
  numItems: number;
  /** Embedding / hidden size. */
  dim: number;
  /** Number of self-attention blocks. */
  blocks: number;
  /** Attention heads (dim must be divisible by heads). */
  heads: number;
  /** Max sequence length (the last maxLen items of a history are used). */
  maxLen: number;
  /** Inner size of the point-wise feed-forward layer. */
  ffnDim: number;
  dropout: number;
  /** Size of the content token vocabulary (0 = no content tower). */
  contentVocab: number;
}

/** Training settings. */
export interface TrainConfig {
  seed: number;
  learningRate: number;
  /** Sequences per step. */
  batchSize: number;
  /** Max epochs. */
  epochs: number;
  /** Stop after this many validations without a better validation NDCG@10 (0 = never). */
  patience: number;
  /** Wall-clock budget for training (the best validation checkpoint is kept). */
  maxTrainMinutes: number;
  /** Negatives per step for sampled softmax (shared by the batch); 0 = full softmax over the catalog. */
  negatives: number;
  /** Max validation users used for early stopping (0 = all). */
  validationUsers: number;
  /** Log every n steps (0 = per epoch only). */
  logEvery: number;
}

export const DEFAULT_NET: Omit<NetConfig, 'numItems' | 'contentVocab'> = {
  dim: 64,
  blocks: 2,
  heads: 2,
  maxLen: 50,
  ffnDim: 256,
  dropout: 0.3,
};

export const DEFAULT_TRAIN: TrainConfig = {
  seed: 42,
  learningRate: 0.002,
  batchSize: 128,
  epochs: 200,
  patience: 5,
  maxTrainMinutes: 30,
  negatives: 0,
  validationUsers: 0,
  logEvery: 0,
};

/** Architecture (without the data-dependent sizes) and training settings, defaults filled in. */
export function resolveFitConfig(
  settings: Partial<Omit<NetConfig, 'numItems' | 'contentVocab'>> & Partial<TrainConfig>,
): { net: Omit<NetConfig, 'numItems' | 'contentVocab'>; train: TrainConfig } {
  const train: TrainConfig = { ...DEFAULT_TRAIN };
  const net = { ...DEFAULT_NET };
  for (const k of Object.keys(train) as (keyof TrainConfig)[])
    if (settings[k] !== undefined) train[k] = settings[k]!;
  for (const k of Object.keys(net) as (keyof typeof net)[])
    if (settings[k] !== undefined) net[k] = settings[k]!;
  return { net, train };
}
