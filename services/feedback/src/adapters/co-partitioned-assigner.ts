import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { coPartitionedAssignment } from '../domain/co-partitioning';

/** kafkajs assigner giving partition p of every subscribed topic to one member (see domain/co-partitioning). */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'CoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const counts: Record<string, number> = {};
    for (const topic of topics) counts[topic] = cluster.findTopicPartitionMetadata(topic).length;
    const plan = coPartitionedAssignment(
      members.map((m) => m.memberId),
      counts,
    );
    return Object.entries(plan).map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'CoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
