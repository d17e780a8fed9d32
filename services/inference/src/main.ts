import { runService } from '@reco/platform';
import { loadInferenceConfig } from './config';
import { InferenceModule } from './app.module';

runService(
  'inference',
  loadInferenceConfig,
  (config, ops) => InferenceModule.forConfig(config, ops),
  (config) => config.INFERENCE_PROCESSES,
);
