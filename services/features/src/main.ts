import { runService } from '@reco/platform';
import { loadFeaturesConfig } from './config';
import { FeaturesModule } from './app.module';

runService('features', loadFeaturesConfig, (config, ops) => FeaturesModule.forConfig(config, ops));
