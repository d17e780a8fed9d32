/** Why a message was refused; `reason` values are stable and machine-readable. */
export type RejectionReason =
  | 'missing_field'
  | 'invalid_type'
  | 'invalid_enum'
  | 'unknown_field'
  | 'too_long'
  | 'invalid_chars'
  | 'out_of_range'
  | 'not_finite'
  | 'negative'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'unsupported_schema_version'
  | 'malformed_json'
  | 'malformed_protobuf'
  | 'unsupported_content_type';

export interface Rejection {
  reason: RejectionReason;
  /** proto field name (snake_case), or '' when the whole message is at fault. */
  field: string;
  detail: string;
}

export type Verdict<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export const reject = (
  reason: RejectionReason,
  field: string,
  detail: string,
): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection: { reason, field, detail },
});
