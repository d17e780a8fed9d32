export * from './catalog';
export * from './shoppers';
export * from './history';
