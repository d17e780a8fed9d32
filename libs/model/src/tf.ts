import type * as tfjs from '@tensorflow/tfjs';
import { loadTensorFlow, type TfLogger } from '@reco/tf-native';

export type TF = typeof tfjs;

/** TensorFlow.js through @reco/tf-native (native backend; one backend per process). */
export function getTf(purpose: 'train' | 'serve', logger?: TfLogger): TF {
  return loadTensorFlow({ purpose, logger }) as unknown as TF;
}

/** Logs to stderr (stdout of the evaluation CLI carries only its JSON). */
export const stderrLogger: TfLogger = {
  info: (message, fields) => console.error(JSON.stringify({ level: 'info', msg: message, ...fields })),
  warn: (message, fields) => console.error(JSON.stringify({ level: 'warn', msg: message, ...fields })),
};
