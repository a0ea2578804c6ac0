/**
 * @module proxy/metered-body
 * Passes the upstream's body to the client chunk by chunk (no read-ahead, so server-sent events
 * arrive as they are sent) and tells the proxy how it ended: completely, cancelled by the client,
 * or failed. The proxy settles before the last byte is released, so a client that has read the
 * whole body can rely on the charge being recorded.
 */

export interface BodyHooks {
  onChunk?(chunk: Uint8Array): void;
  onDone(): Promise<void>;
  onCancel(): Promise<void>;
  onError(error: unknown): Promise<void>;
}

/**
 * `expectedBytes` is the upstream's Content-Length: a client that knows the length considers the
 * body complete at its last byte, before the stream closes, so the last chunk is held until the
 * call has settled.
 */
export function meteredBody(upstream: ReadableStream<Uint8Array>, hooks: BodyHooks, expectedBytes?: number): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let finished = false;
  let total = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          if (finished) return;
          finished = true;
          await hooks.onError(error);
          controller.error(error);
          return;
        }
        if (finished) return;
        if (result.done) {
          finished = true;
          await hooks.onDone();
          controller.close();
          return;
        }
        hooks.onChunk?.(result.value);
        total += result.value.byteLength;
        if (expectedBytes !== undefined && total >= expectedBytes) {
          finished = true;
          await hooks.onDone();
          controller.enqueue(result.value);
          controller.close();
          await reader.cancel().catch(() => {});
          return;
        }
        controller.enqueue(result.value);
      },
      async cancel(reason) {
        if (finished) return;
        finished = true;
        await reader.cancel(reason).catch(() => {});
        await hooks.onCancel();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads a whole body, refusing (returning undefined) past `bytesMax`. */
export async function readBounded(stream: ReadableStream<Uint8Array> | null, bytesMax: number): Promise<Uint8Array | undefined> {
  if (!stream) return new Uint8Array();
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Collects the first `bytesMax` bytes of a stream for the replay record; gives up beyond that. */
export class ReplayCapture {
  readonly #bytesMax: number;
  #chunks: Uint8Array[] | undefined = [];
  #total = 0;

  constructor(bytesMax: number) {
    this.#bytesMax = bytesMax;
    if (bytesMax <= 0) this.#chunks = undefined;
  }

  add(chunk: Uint8Array): void {
    if (!this.#chunks) return;
    this.#total += chunk.byteLength;
    if (this.#total > this.#bytesMax) this.#chunks = undefined;
    else this.#chunks.push(chunk);
  }

  /** Base64 of the captured body, or undefined when it was too large to keep. */
  base64(): string | undefined {
    return this.#chunks ? Buffer.concat(this.#chunks).toString('base64') : undefined;
  }
}
