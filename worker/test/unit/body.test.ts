import { describe, expect, it, vi } from "vitest";
import { readBodyWithin } from "../../src/body";

const LIMIT = 1000;

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks.shift();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request("https://api.example.com/v1/image/analysis", { method: "POST", headers, body });
}

describe("readBodyWithin", () => {
  it("reads a body of declared length with one arrayBuffer() call, into one buffer", async () => {
    const request = post(new Uint8Array([1, 2, 3, 4, 5]), { "Content-Length": "5" });
    const arrayBuffer = vi.spyOn(request, "arrayBuffer");
    const read = await readBodyWithin(request, LIMIT);
    expect(read).toEqual({ within: true, bytes: new Uint8Array([1, 2, 3, 4, 5]) });
    expect(arrayBuffer).toHaveBeenCalledOnce();
  });

  it("refuses a declared length over the limit without reading the body", async () => {
    const request = post(streamOf(new Uint8Array(10)), { "Content-Length": String(LIMIT + 1) });
    expect(await readBodyWithin(request, LIMIT)).toEqual({ within: false, receivedBytes: LIMIT + 1 });
    expect(request.bodyUsed).toBe(false);
  });

  it("copies a body without a declared length into one buffer exactly its size, chunk by chunk", async () => {
    const request = post(streamOf(new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])));
    const arrayBuffer = vi.spyOn(request, "arrayBuffer");
    const read = await readBodyWithin(request, LIMIT);
    expect(read.within).toBe(true);
    const bytes = (read as { bytes: Uint8Array }).bytes;
    expect(bytes).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6]));
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(6);
    expect(arrayBuffer).not.toHaveBeenCalled();
  });

  it("stops reading a body without a declared length at the first chunk past the limit", async () => {
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(400));
      },
    });
    expect(await readBodyWithin(post(endless), LIMIT)).toEqual({ within: false, receivedBytes: 1200 });
    expect(pulls).toBeLessThanOrEqual(4);
  });

  it("takes a body of exactly the limit", async () => {
    const read = await readBodyWithin(post(streamOf(new Uint8Array(LIMIT))), LIMIT);
    expect(read.within).toBe(true);
  });

  it("has no bytes for a request without a body", async () => {
    expect(await readBodyWithin(new Request("https://api.example.com/health"), LIMIT)).toEqual({ within: true, bytes: null });
  });
});
