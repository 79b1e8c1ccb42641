/** RFC 3339, UTC, second precision — the reference's timestamp format. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
