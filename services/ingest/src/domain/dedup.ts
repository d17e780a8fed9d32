/** The start of every position on one source partition: a position is this plus the offset. */
export const positionPrefix = (topic: string, partition: number) => `${topic}/${partition}/`;

/** Where a message sits in Kafka; the dedup window remembers the first sighting's position. */
export const sourcePosition = (topic: string, partition: number, offset: string) =>
  `${positionPrefix(topic, partition)}${offset}`;

export type Sighting = 'first' | 'replay' | 'duplicate';

/**
 * Classifies an event id given what the dedup window held before this claim.
 * A mark equal to this message's own position means ingest has processed this very message
 * before. Below its partition's committed watermark (`committedBelow`: offsets under it are in
 * committed transactions) that processing committed, so the event is published already and is
 * a duplicate (offsets read before that commit became visible bring it back); otherwise its
 * transaction never committed and it must be published again (a replay).
 * A mark of another position is a duplicate; so are the per-event confirmed marks
 * (`<position>#committed`) that earlier versions wrote.
 */
export function classifySighting(
  previousMark: string | null,
  ownPosition: string,
  committedBelow: bigint,
): Sighting {
  if (previousMark === null) return 'first';
  if (previousMark !== ownPosition) return 'duplicate';
  return BigInt(ownPosition.slice(ownPosition.lastIndexOf('/') + 1)) < committedBelow
    ? 'duplicate'
    : 'replay';
}

/**
 * A source partition's committed watermark as a confirm records it: every offset below
 * `nextOffset` is in a committed transaction.
 */
export interface CommittedWatermark {
  topic: string;
  partition: number;
  nextOffset: bigint;
}

/** The watermark a batch's claimed events reach once committed (their offsets ascend). */
export function watermarkAfter(events: SourceEvents): CommittedWatermark | undefined {
  const last = events.offsets[events.offsets.length - 1];
  if (last === undefined) return undefined;
  return { topic: events.topic, partition: events.partition, nextOffset: BigInt(last) + 1n };
}

/**
 * A batch's valid events as the dedup window sees them: all from one source partition, the
 * i-th event's id and offset at index i, in batch order. (Ids and offsets side by side rather
 * than an object per event: this is built for every event.)
 */
export interface SourceEvents {
  topic: string;
  partition: number;
  eventIds: string[];
  offsets: string[];
}

/** What a claim found: how each claimed event was seen before, by index in the claim. */
export interface DedupClaim {
  readonly sightings: readonly Sighting[];
  /** What confirming this claim records (none for a claim of no events). */
  readonly watermark?: CommittedWatermark;
}

/** The dedup window: claims event ids, answering how each was seen before. */
export interface DedupWindow {
  claim(events: SourceEvents): Promise<DedupClaim>;
  /**
   * After the batch's transaction committed: raises its source partition's committed
   * watermark past the claimed events, so that their marks now mean "published".
   */
  confirm(claim: DedupClaim): Promise<void>;
}
