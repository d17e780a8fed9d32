/** The start of every position on one source partition: a position is this plus the offset. */
export const positionPrefix = (topic: string, partition: number) => `${topic}/${partition}/`;

/** Where a message sits in Kafka; the dedup window remembers the first sighting's position. */
export const sourcePosition = (topic: string, partition: number, offset: string) =>
  `${positionPrefix(topic, partition)}${offset}`;

export type Sighting = 'first' | 'replay' | 'duplicate';

/**
 * Classifies an event id given what the dedup window held before this claim.
 * A mark equal to this message's own position means ingest is reprocessing it after a crash
 * (its earlier transaction never committed), so it must be published again, not dropped.
 */
export function classifySighting(previousMark: string | null, ownPosition: string): Sighting {
  if (previousMark === null) return 'first';
  // A mark confirmed after its transaction committed is never republished, even from the
  // same position (offsets read before that commit became visible would bring it back).
  return previousMark === ownPosition ? 'replay' : 'duplicate';
}

/** What a confirmed mark ends with: the position followed by this. */
export const COMMITTED_SUFFIX = '#committed';

/** The mark of an event whose clean copy is committed. */
export const confirmedMark = (position: string) => `${position}${COMMITTED_SUFFIX}`;

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
  /**
   * The claimed events. A window may leave them out of the claims it returns when it keeps
   * what its confirm needs in another form: then the batch's ids need not stay alive until
   * its transaction commits.
   */
  readonly events?: SourceEvents;
}

/** The dedup window: claims event ids, answering how each was seen before. */
export interface DedupWindow {
  claim(events: SourceEvents): Promise<DedupClaim>;
  /**
   * After the batch's transaction committed: marks the events it published (every event of
   * the claim that was not a duplicate) as committed.
   */
  confirm(claim: DedupClaim): Promise<void>;
}
