import { describe, expect, it } from "vitest";
import { instanceName, instanceOrder } from "../../src/instances";
import { CONTAINER_ATTEMPTS, CONTAINER_INSTANCES } from "../../src/limits";

/** A `random` that plays the given values in turn. */
function playing(...values: number[]): () => number {
  return () => {
    const value = values.shift();
    if (value === undefined) throw new Error("random called too often");
    return value;
  };
}

describe("instanceOrder", () => {
  it("tries two different instances, each in range, for every first choice and every second draw", () => {
    for (let first = 0; first < CONTAINER_INSTANCES; first++) {
      for (const draw of [0, 0.5, 0.999999]) {
        const order = instanceOrder(CONTAINER_INSTANCES, playing((first + 0.5) / CONTAINER_INSTANCES, draw));
        expect(order).toHaveLength(CONTAINER_ATTEMPTS);
        expect(order[0]).toBe(first);
        expect(order[1]).not.toBe(first);
        for (const index of order) {
          expect(index).toBeGreaterThanOrEqual(0);
          expect(index).toBeLessThan(CONTAINER_INSTANCES);
        }
      }
    }
  });

  it("reaches every instance as a second choice", () => {
    const seconds = new Set<number>();
    for (let k = 0; k < CONTAINER_INSTANCES - 1; k++) {
      seconds.add(instanceOrder(CONTAINER_INSTANCES, playing(0, (k + 0.5) / (CONTAINER_INSTANCES - 1)))[1]!);
    }
    expect([...seconds].sort()).toEqual([1, 2, 3, 4].slice(0, CONTAINER_INSTANCES - 1));
  });

  it("has a single choice when there is a single instance", () => {
    expect(instanceOrder(1, playing(0.7))).toEqual([0]);
  });
});

describe("instanceName", () => {
  it("names instances like @cloudflare/containers' getRandom does", () => {
    expect(instanceName(3)).toBe("instance-3");
  });
});
