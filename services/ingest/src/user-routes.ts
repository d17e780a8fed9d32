import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';
import { memoizedKeyPartitioner, pseudonymize } from '@reco/platform';

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
 * Raw user id → its route, in a bounded memo: a clickstream repeats the same users constantly,
 * and one lookup here replaces the pseudonym memo's and the partitioner memo's (each was a
 * lookup per event in a map of ~100,000 users) and the key's encoding per message. The HMAC
 * runs once per user. Oldest entries go first once the memo is full.
 */
export class UserRoutes {
  private readonly memo = new Map<string, UserRoute>();
  constructor(
    private readonly key: Buffer,
    private readonly capacity = 100_000,
  ) {}

  route(rawUserId: string): UserRoute {
    let route = this.memo.get(rawUserId);
    if (route === undefined) {
      const pseudonym = pseudonymize(rawUserId, this.key);
      route = { pseudonym, key: Buffer.from(pseudonym, 'utf8'), partitions: -1, partition: -1 };
      if (this.memo.size >= this.capacity) this.memo.delete(this.memo.keys().next().value!);
      // A copy of the id: it may be a slice of a whole message's text, which the memo would
      // otherwise keep alive (JSON's round trip copies any string exactly, lone surrogates too).
      this.memo.set(JSON.parse(JSON.stringify(rawUserId)) as string, route);
    }
    return route;
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
