export * from './hashing';
export * from './float16';
export * from './user-state';
export * from './keys';
export * from './micro-batcher';
export * from './model-source';
export * from './synthetic-model';
export * from './item-hash-index';
