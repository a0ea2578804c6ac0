/**
 * @module mcp/single-answer
 * Streamable HTTP lets a server answer a POST either with one JSON body or with an SSE stream. The
 * SDK's server transport always opens a stream, so that progress notifications and elicitation
 * requests can reach the client in the middle of a call. Most calls send nothing but their answer,
 * and as a stream that answer costs three socket writes here (headers, event, terminator) and an
 * SSE parse in the client; as JSON it is one write and a `JSON.parse`. So the first event decides:
 * the final answer alone becomes a JSON response; anything else (a notification, a request to the
 * client, a keep-alive) goes out as the stream it was, from its first byte, without waiting.
 * The gateway's client side does the same with its upstreams' answers (`upstream-fetch.ts`).
 */

const decoder = new TextDecoder();
const DATA_PREFIX = 'event: message\ndata: ';

/** The SDK's SSE answer to a POST, as JSON when it turned out to carry only the final response. */
export async function singleAnswerAsJson(response: Response): Promise<Response> {
  if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  const reader = response.body.getReader();
  const first = await reader.read();
  const json = first.done ? undefined : finalResponseOf(decoder.decode(first.value));
  if (json !== undefined) {
    // The transport closes the stream in the same turn as it writes the last response, so this
    // read does not wait; a batch with more answers to come keeps its stream.
    const second = await reader.read();
    if (second.done) {
      // The headers the SDK's own JSON answers carry: the type and the session.
      const sessionId = response.headers.get('mcp-session-id');
      return new Response(json, { status: response.status, headers: sessionId ? { 'content-type': 'application/json', 'mcp-session-id': sessionId } : { 'content-type': 'application/json' } });
    }
    return resumed(response, reader, [first.value!, second.value]);
  }
  return resumed(response, reader, first.done ? [] : [first.value]);
}

/** The JSON text of SSE text that is exactly one event holding a JSON-RPC response, else undefined. */
export function finalResponseOf(text: string): string | undefined {
  if (!text.startsWith(DATA_PREFIX) || !text.endsWith('\n\n')) return undefined;
  const data = text.slice(DATA_PREFIX.length, -2);
  // An event id, a second event or a multi-line payload means a stream worth keeping as one.
  if (data.includes('\n')) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  const m = message as Record<string, unknown> | null;
  return m && typeof m === 'object' && !('method' in m) && 'id' in m && ('result' in m || 'error' in m) ? data : undefined;
}

/** The original stream again: the chunks already read, then the rest as it comes. */
function resumed(response: Response, reader: ReadableStreamDefaultReader<Uint8Array>, read: Uint8Array[]): Response {
  let index = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < read.length) {
        controller.enqueue(read[index++]!);
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
