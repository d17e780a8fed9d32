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
  return previousMark === ownPosition ? 'replay' : 'duplicate';
}

/** The dedup window: claims event ids, answering how each was seen before. */
export interface DedupWindow {
  claim(claims: { eventId: string; position: string }[]): Promise<Sighting[]>;
}
