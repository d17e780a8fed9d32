import { runService } from '@reco/platform';
import { loadTrainerConfig } from './config';
import { TrainerModule } from './app.module';

runService('trainer', loadTrainerConfig, (config, ops) => TrainerModule.forConfig(config, ops));
