/**
 * The gateway's upstream fetch against a real local HTTP server: bodies and headers both ways,
 * streamed SSE, kept-alive sockets, redirects left to the caller, aborts, and no abort listener left
 * on a long-lived signal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { upstreamFetch } from './upstream-fetch.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('upstream fetch', () => {
  let handler: Handler = (_req, res) => res.end();
  const sockets = new Set<unknown>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (socket) => sockets.add(socket));
  let base = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('sends the method, headers and a string body with its length; returns status, headers and body', async () => {
    let seen: { method?: string; headers: IncomingMessage['headers']; body: string } | undefined;
    handler = (req, res, body) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(201, [['content-type', 'application/json'], ['mcp-session-id', 'abc'], ['x-multi', 'a'], ['x-multi', 'b']]).end('{"ok":"é"}');
    };
    const body = JSON.stringify({ text: 'héllo' });
    const response = await upstreamFetch(`${base}/mcp`, { method: 'POST', headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer up' }), body });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('mcp-session-id'), 'abc');
    assert.equal(response.headers.get('x-multi'), 'a, b');
    assert.deepEqual(await response.json(), { ok: 'é' });
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.body, body);
    assert.equal(seen?.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(seen?.headers['transfer-encoding'], undefined);
    assert.equal(seen?.headers.authorization, 'Bearer up');
  });

  test('streams an SSE body as it arrives', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      void finished.then(() => res.end('data: two\n\n'));
    };
    const response = await upstreamFetch(`${base}/sse`, { method: 'POST', body: '{}' });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), 'data: one\n\n');
    finish();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    assert.equal(rest, 'data: two\n\n');
  });

  test('an SSE answer whose only event is the final JSON-RPC response comes back as that JSON; anything else stays a stream', async () => {
    const final = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'é' }] } });
    const progress = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    const answer = (events: string[], end = true): Handler => (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
      for (const e of events) res.write(e);
      if (end) res.end();
    };
    handler = answer([`event: message\ndata: ${final}\n\n`]);
    const single = await upstreamFetch(`${base}/mcp`, { method: 'POST', body: '{}' });
    assert.equal(single.headers.get('content-type'), 'application/json');
    assert.equal(single.headers.get('mcp-session-id'), 's1');
    assert.equal(await single.text(), final);
    // A server that keeps the stream open after its final response does not hold the call up.
    handler = answer([`event: message\ndata: ${final}\n\n`], false);
    assert.equal(await (await upstreamFetch(`${base}/mcp`, { method: 'POST', body: '{}' })).text(), final);
    // A notification first: the stream as sent, every byte, in order.
    const streamed = `event: message\ndata: ${progress}\n\nevent: message\ndata: ${final}\n\n`;
    handler = answer([`event: message\ndata: ${progress}\n\n`, `event: message\ndata: ${final}\n\n`]);
    const stream = await upstreamFetch(`${base}/mcp`, { method: 'POST', body: '{}' });
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    assert.equal(await stream.text(), streamed);
    // The first event split across writes, then a second event: still the whole stream.
    handler = answer([`event: message\ndata: ${final.slice(0, 10)}`, `${final.slice(10)}\n\nevent: message\ndata: ${progress}\n\n`]);
    assert.equal(await (await upstreamFetch(`${base}/mcp`, { method: 'POST', body: '{}' })).text(), `event: message\ndata: ${final}\n\nevent: message\ndata: ${progress}\n\n`);
    // A connection dropped in the middle of the first event errors the body.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc"');
      setTimeout(() => res.destroy(), 20);
    };
    const dropped = await upstreamFetch(`${base}/mcp`, { method: 'POST', body: '{}' });
    await assert.rejects(dropped.text());
  });

  test('keeps sockets alive between requests', async () => {
    handler = (_req, res) => res.end('x');
    await (await upstreamFetch(`${base}/a`, { method: 'POST', body: '1' })).text();
    const before = sockets.size;
    for (let i = 0; i < 5; i++) await (await upstreamFetch(`${base}/a`, { method: 'POST', body: '1' })).text();
    assert.equal(sockets.size, before);
  });

  test('leaves redirects to the caller and gives bodiless statuses a null body', async () => {
    handler = (req, res) => {
      if (req.url === '/moved') res.writeHead(307, { location: '/elsewhere' }).end('moving');
      else res.writeHead(204).end();
    };
    const moved = await upstreamFetch(`${base}/moved`, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.get('location'), '/elsewhere');
    await moved.body?.cancel();
    const empty = await upstreamFetch(`${base}/empty`, { method: 'DELETE' });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  test('an abort before the answer rejects; during the body it errors the stream', async () => {
    let respond!: (res: ServerResponse) => void;
    const waiting = new Promise<ServerResponse>((resolve) => (respond = resolve));
    handler = (_req, res) => respond(res);
    const early = new AbortController();
    const pending = upstreamFetch(`${base}/slow`, { method: 'POST', body: '{}', signal: early.signal });
    const res = await waiting;
    early.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    res.destroy();

    handler = (_req, res2) => {
      res2.writeHead(200, { 'content-type': 'text/event-stream' });
      res2.write('data: partial\n\n');
    };
    const late = new AbortController();
    const response = await upstreamFetch(`${base}/stream`, { method: 'POST', body: '{}', signal: late.signal });
    const reader = response.body!.getReader();
    await reader.read();
    late.abort();
    await assert.rejects(reader.read());
    await assert.rejects(upstreamFetch(`${base}/x`, { signal: late.signal }), { name: 'AbortError' });
  });

  test('a long-lived signal (the SDK transport keeps one per connection) keeps no listener per request', async () => {
    handler = (_req, res) => res.end('ok');
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) await (await upstreamFetch(`${base}/a`, { method: 'POST', body: '1', signal })).text();
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  test('a refused connection rejects', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(upstreamFetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', body: '{}' }));
  });
});
