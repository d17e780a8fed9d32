import 'reflect-metadata';

export * from './config';
export * from './logger';
export * from './kafka';
export * from './redis';
export * from './metrics';
export * from './stage-histogram';
export * from './health';
export * from './bootstrap';
export * from './pseudonym';
export * from './consumer-state';
export * from './process-group';
