export * from './config';
export * from './assignment';
export * from './stats';
