/**
 * How the dedup window is cut in time. Event ids are kept in buckets (one Redis hash per
 * shard and bucket) that each cover half a window; a bucket expires as a whole, one window
 * after its end. So an id is remembered for at least the window and at most one and a half
 * (a repeat that comes later than the window but within that half is still dropped: it is a
 * repeat all the same). Bucket n covers [n × slice, (n + 1) × slice) in Unix ms.
 */
export interface DedupBuckets {
  /** The bucket new ids go into: the one holding `now`. */
  write: number;
  /**
   * The other buckets a claim must look in: the two before (they still hold ids seen within
   * the window) and the one after (a replica whose clock runs ahead may already write there).
   */
  read: number[];
  /** When the write bucket expires (Unix ms): one window after its end. */
  expireAt: number;
}

/** The buckets of a claim at `now` (Unix ms) for a window of `windowMs`. */
export function dedupBuckets(now: number, windowMs: number): DedupBuckets {
  if (!(windowMs >= 1)) throw new Error(`dedup window must be at least 1 ms, not ${windowMs}`);
  const slice = Math.ceil(windowMs / 2);
  const write = Math.floor(now / slice);
  return { write, read: [write - 2, write - 1, write + 1], expireAt: (write + 1) * slice + windowMs };
}
