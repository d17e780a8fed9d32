import { runService } from '@reco/platform';
import { loadIngestConfig } from './config';
import { IngestModule } from './app.module';

runService('ingest', loadIngestConfig, (config, ops) => IngestModule.forConfig(config, ops));
