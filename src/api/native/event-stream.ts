/**
 * The server-sent event format of the native API's streams (GET /tasks/:id/progress), written by the server and
 * read by both clients, CLI and console: one place owns the wire format. A pure module with no imports, so the
 * clients may import it (see .dependency-cruiser.cjs).
 */

/** One event: `event: <name>` and one `data:` line of JSON, then a blank line. */
export function formatEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Reads a stream fed in arbitrary text chunks and calls `onEvent` for each complete event with data. An event is
 * complete at its blank line, so one split across chunks is delivered once, whole.
 */
export function eventStreamReader(onEvent: (event: string, data: unknown) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data !== undefined) onEvent(event, JSON.parse(data));
    }
  };
}
