import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';
import { RawUserMemo, memoizedKeyPartitioner, pseudonymize } from '@reco/platform';

/**
 * Where one raw user's clean events go: the pseudonym (the events' user id and key), the
 * key's bytes, and the key's partition for the partition count it was computed for
 * (filled in by `userRoutePartitioner` on first use, recomputed if the count changes).
 */
export interface UserRoute {
  readonly pseudonym: string;
  readonly key: Buffer;
  partitions: number;
  partition: number;
}

/** A message to produce that may carry its user's route (the partitioner reads it). */
export interface RoutedMessage {
  route?: UserRoute;
}

/**
 * Raw user id → its route, in a bounded memo (RawUserMemo): one lookup here replaces the
 * pseudonym memo's and the partitioner memo's (each was a lookup per event in a map of
 * ~100,000 users) and the key's encoding per message. The HMAC runs once per user.
 */
export class UserRoutes {
  private readonly memo: RawUserMemo<UserRoute>;
  constructor(key: Buffer, capacity = 100_000) {
    this.memo = new RawUserMemo((rawUserId) => {
      const pseudonym = pseudonymize(rawUserId, key);
      return { pseudonym, key: Buffer.from(pseudonym, 'utf8'), partitions: -1, partition: -1 };
    }, capacity);
  }

  route(rawUserId: string): UserRoute {
    return this.memo.get(rawUserId);
  }
}

/**
 * kafkajs' default (murmur2) partitioner, answered from the message's route where it has one
 * (clean events) and from a memo per key otherwise: the same partitions as the default.
 */
export const userRoutePartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  const memoized = memoizedKeyPartitioner();
  return (args: PartitionerArgs) => {
    const route = (args.message as RoutedMessage).route;
    if (route === undefined || (args.message.partition !== undefined && args.message.partition !== null))
      return memoized(args);
    const partitions = args.partitionMetadata.length;
    if (route.partitions !== partitions) {
      route.partition = byKey(args);
      route.partitions = partitions;
    }
    return route.partition;
  };
};
