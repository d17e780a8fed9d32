import { runService } from '@reco/platform';
import { loadIngestConfig } from './config';
import { IngestModule } from './app.module';

runService('ingest', loadIngestConfig, (config) => IngestModule.forConfig(config));
