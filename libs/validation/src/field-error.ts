/** One problem of a 400 answer: BitBroker's RFC 7807-like item with an array index. */
export interface FieldError {
  name: string;
  index: number | null;
  reason: string;
}
