export * from './ann-index';
export * from './exact';
