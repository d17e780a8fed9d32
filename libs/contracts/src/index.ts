export * from './gen/reco/v1/events';
export * from './gen/reco/v1/catalog';
export * from './gen/reco/v1/dead_letter';
export * from './gen/reco/v1/model';
export * from './gen/reco/v1/impression';
export * from './gen/reco/v1/recommender';
export * from './topics';
export * from './topics-doc';
