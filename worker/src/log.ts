/** One JSON line per event, so Workers Logs can filter on the fields. */
export function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ event, ...fields }));
}
