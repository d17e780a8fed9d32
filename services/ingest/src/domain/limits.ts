/** Bounds every accepted message must respect; the defaults suit a storefront's clickstream. */
export interface ValidationLimits {
  maxIdLength: number;
  maxQueryLength: number;
  maxContextLength: number;
  maxReferrerLength: number;
  maxQuantity: number;
  maxPrice: number;
  /** How far in the past an event time may be (replayed history must fit in it). */
  maxEventAgeMs: number;
  /** Tolerated client clock skew into the future. */
  maxClockSkewMs: number;
  allowUnknownJsonFields: boolean;
}

export const DEFAULT_LIMITS: ValidationLimits = {
  maxIdLength: 128,
  maxQueryLength: 512,
  maxContextLength: 256,
  maxReferrerLength: 2048,
  maxQuantity: 10_000,
  maxPrice: 10_000_000,
  maxEventAgeMs: 30 * 24 * 3600 * 1000,
  maxClockSkewMs: 5 * 60 * 1000,
  allowUnknownJsonFields: false,
};
