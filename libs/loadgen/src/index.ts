export * from './clickstream';
export * from './publish';
export * from './random';
