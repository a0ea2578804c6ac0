/**
 * The SSE answer to a POST becomes one JSON body only when it carries nothing but the final
 * response; notifications, requests to the client and multi-event streams pass through unchanged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { singleAnswerAsJson } from './single-answer.ts';

const encoder = new TextEncoder();
const event = (message: unknown) => encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`);

/** A stream the test writes to, as the SDK's transport does (one event per chunk). */
function sse(headers: Record<string, string> = {}) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const response = new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'mcp-session-id': 's1', ...headers } });
  return { response, controller };
}

async function text(response: Response): Promise<string> {
  return new TextDecoder().decode(new Uint8Array(await response.arrayBuffer()));
}

describe('single answer as JSON', () => {
  test('the final response alone becomes application/json with the session id', async () => {
    const { response, controller } = sse();
    const result = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'é ✓' }] } };
    controller.enqueue(event(result));
    controller.close();
    const shaped = await singleAnswerAsJson(response);
    assert.equal(shaped.headers.get('content-type'), 'application/json');
    assert.equal(shaped.headers.get('mcp-session-id'), 's1');
    assert.deepEqual(JSON.parse(await text(shaped)), result);
  });

  test('an error response alone becomes JSON too', async () => {
    const { response, controller } = sse();
    const error = { jsonrpc: '2.0', id: 'a', error: { code: -32602, message: 'bad' } };
    controller.enqueue(event(error));
    controller.close();
    assert.deepEqual(JSON.parse(await text(await singleAnswerAsJson(response))), error);
  });

  test('a notification first keeps the stream, delivered before the answer exists', async () => {
    const { response, controller } = sse();
    const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
    controller.enqueue(event(progress));
    const shaped = await singleAnswerAsJson(response);
    assert.equal(shaped.headers.get('content-type'), 'text/event-stream');
    const reader = shaped.body!.getReader();
    assert.deepEqual((await reader.read()).value, event(progress));
    const result = { jsonrpc: '2.0', id: 1, result: {} };
    controller.enqueue(event(result));
    controller.close();
    assert.deepEqual((await reader.read()).value, event(result));
    assert.equal((await reader.read()).done, true);
  });

  test('a request to the client (elicitation) keeps the stream', async () => {
    const { response, controller } = sse();
    controller.enqueue(event({ jsonrpc: '2.0', id: 0, method: 'elicitation/create', params: {} }));
    assert.equal((await singleAnswerAsJson(response)).headers.get('content-type'), 'text/event-stream');
  });

  test('a response followed by more events (a batch) keeps every event, in order', async () => {
    const { response, controller } = sse();
    const first = { jsonrpc: '2.0', id: 1, result: {} };
    const second = { jsonrpc: '2.0', id: 2, result: {} };
    controller.enqueue(event(first));
    controller.enqueue(event(second));
    controller.close();
    const shaped = await singleAnswerAsJson(response);
    assert.equal(shaped.headers.get('content-type'), 'text/event-stream');
    assert.equal(await text(shaped), `event: message\ndata: ${JSON.stringify(first)}\n\nevent: message\ndata: ${JSON.stringify(second)}\n\n`);
  });

  test('events with ids (resumable streams) and non-SSE answers are left alone', async () => {
    const { response, controller } = sse();
    const withId = encoder.encode(`event: message\nid: e1\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })}\n\n`);
    controller.enqueue(withId);
    controller.close();
    const shaped = await singleAnswerAsJson(response);
    assert.equal(shaped.headers.get('content-type'), 'text/event-stream');
    assert.deepEqual(new Uint8Array(await shaped.arrayBuffer()), withId);
    const json = new Response('{"jsonrpc":"2.0","id":1,"result":{}}', { headers: { 'content-type': 'application/json' } });
    assert.equal(await singleAnswerAsJson(json), json);
    const accepted = new Response(null, { status: 202 });
    assert.equal(await singleAnswerAsJson(accepted), accepted);
  });

  test('a stream that ends without an event stays an (empty) stream', async () => {
    const { response, controller } = sse();
    controller.close();
    const shaped = await singleAnswerAsJson(response);
    assert.equal(shaped.headers.get('content-type'), 'text/event-stream');
    assert.equal(await text(shaped), '');
  });

  test('cancelling the kept stream cancels the original', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(event({ jsonrpc: '2.0', method: 'notifications/message', params: {} })),
      cancel: () => void (cancelled = true),
    });
    const shaped = await singleAnswerAsJson(new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
    await shaped.body!.cancel();
    assert.equal(cancelled, true);
  });
});
