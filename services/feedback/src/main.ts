import { runService } from '@reco/platform';
import { loadFeedbackConfig } from './config';
import { FeedbackModule } from './app.module';

runService('feedback', loadFeedbackConfig, (config, ops) => FeedbackModule.forConfig(config, ops));
