import { runService } from '@reco/platform';
import { loadFeaturesConfig } from './config';
import { FeaturesModule } from './app.module';

runService('features', loadFeaturesConfig, (config) => FeaturesModule.forConfig(config));
