export * from './config';
export * from './content';
export { SasRecNet, padSequences, type WeightSpec, type ContentTensors } from './net';
export * from './ranking';
export * from './served';
export * from './sequence-model';
export * from './trainer';
export * from './transitions';
export { mulberry32 } from './rng';
