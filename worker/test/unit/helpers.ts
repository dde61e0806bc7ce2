/** Test doubles shared by the unit tests: a recording origin and a fake container namespace. */
import { vi } from "vitest";
import type { ImageInsightsContainer } from "../../src/container";

export interface SeenRequest {
  url: string;
  method: string;
  headers: Headers;
  body: Uint8Array;
}

async function record(request: Request): Promise<SeenRequest> {
  return {
    url: request.url,
    method: request.method,
    headers: new Headers(request.headers),
    body: new Uint8Array(await request.arrayBuffer()),
  };
}

export function serviceJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** Replaces global fetch (the local origin path) with `answer`, recording what reaches it. */
export function mockOrigin(answer: (request: Request) => Response | Promise<Response> = () => serviceJson({ ok: true })) {
  const seen: SeenRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    seen.push(await record(request.clone()));
    return answer(request);
  });
  return { seen, spy };
}

/**
 * One scripted answer of a container instance: a response, an exception from the stub, or a
 * function of the request for answers that take their time.
 */
export type InstanceAnswer = Response | Error | ((request: Request) => Promise<Response>);

/**
 * A stand-in for the Durable Object namespace: `get` returns stubs whose `fetch` plays the
 * scripted answers in call order, whatever the instance, and records which instance was asked.
 */
export function fakeNamespace(answers: InstanceAnswer[]) {
  const calls: { instance: string; request: SeenRequest }[] = [];
  const namespace = {
    idFromName: (name: string) => ({ name, toString: () => name }),
    get: (id: { name: string }) => ({
      fetch: async (request: Request) => {
        calls.push({ instance: id.name, request: await record(request) });
        const answer = answers.shift();
        if (answer === undefined) {
          throw new Error("no scripted answer left");
        }
        if (answer instanceof Error) {
          throw answer;
        }
        if (typeof answer === "function") {
          return answer(request);
        }
        return answer;
      },
    }),
  };
  return { namespace: namespace as unknown as DurableObjectNamespace<ImageInsightsContainer>, calls };
}
