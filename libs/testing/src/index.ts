export * from './infra';
export * from './topics';
