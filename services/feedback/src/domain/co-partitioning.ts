/**
 * Which member reads which partitions when impressions and clean events are co-partitioned
 * (both keyed by the pseudonymized user id, same partition count, same partitioner): partition
 * p of every topic goes to the same member, so one member holds all of a user's state.
 * Members are sorted by id and take partition numbers round robin.
 */
export function coPartitionedAssignment(
  memberIds: string[],
  partitionCounts: Record<string, number>,
): Record<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const out: Record<string, Record<string, number[]>> = {};
  for (const m of members) out[m] = {};
  if (members.length === 0) return out;
  const most = Math.max(0, ...Object.values(partitionCounts));
  for (let p = 0; p < most; p++) {
    const member = out[members[p % members.length]];
    for (const [topic, count] of Object.entries(partitionCounts)) {
      if (p >= count) continue;
      (member[topic] ??= []).push(p);
    }
  }
  return out;
}
