import { loadTensorFlow } from '@reco/tf-native';

import type { TF } from './tf';

const quiet = { info: () => undefined, warn: () => undefined };

/** TensorFlow for the unit tests: native when available (tiny models, so pure JS is allowed as a fallback). */
export function testTf(): TF {
  return loadTensorFlow({ purpose: 'train', allowPureJs: true, logger: quiet }) as unknown as TF;
}

export const silent = (): void => undefined;
