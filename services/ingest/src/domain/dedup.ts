/** Where a message sits in Kafka; the dedup window remembers the first sighting's position. */
export const sourcePosition = (topic: string, partition: number, offset: string) =>
  `${topic}/${partition}/${offset}`;

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

/** The mark of an event whose clean copy is committed. */
export const confirmedMark = (position: string) => `${position}#committed`;

/** The dedup window: claims event ids, answering how each was seen before. */
export interface DedupWindow {
  claim(claims: { eventId: string; position: string }[]): Promise<Sighting[]>;
  /** Marks published events as committed (after their transaction committed). */
  confirm(claims: { eventId: string; position: string }[]): Promise<void>;
}
