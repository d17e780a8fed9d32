import type { Admin } from 'kafkajs';
import { topicConfigEntries, type TopicSpec } from '@reco/contracts';

/**
 * Interim: the outcomes topic, declared here until it moves into the registry of
 * @reco/contracts (libs/contracts/src/topics.ts) as `outcomes`.
 */
export const OUTCOMES_TOPIC: TopicSpec = {
  name: 'reco.feedback.outcomes.v1',
  key: 'pseudonymized user id',
  value:
    'reco.v1.Outcome, binary protobuf: impression request id, item, position, outcome (click, add_to_cart, purchase, skip), model version, arm',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: 90 * 24 * 60 * 60 * 1000,
  producedBy: 'feedback (at least once; outcome_id is deterministic, consumers drop repeats)',
  consumedBy: 'trainer',
  notes:
    'Labels joined from impressions and clean events inside the attribution window; skips are published when the window closes.',
};

export async function ensureOutcomesTopic(
  admin: Admin,
  options: { prefix: string; partitions?: number; replicationFactor: number },
): Promise<void> {
  const topic = options.prefix + OUTCOMES_TOPIC.name;
  if ((await admin.listTopics()).includes(topic)) return;
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? OUTCOMES_TOPIC.partitions,
          replicationFactor: options.replicationFactor,
          configEntries: topicConfigEntries(OUTCOMES_TOPIC),
        },
      ],
      waitForLeaders: true,
    });
  } catch (err) {
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
}
