export * from './infra';
export * from './topics';
export * from './service-process';
export * from './cpu';
