export * from './ann-index';
export * from './exact';
export * from './ann-searcher';
export * from './clustered-vectors';
