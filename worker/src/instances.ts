/**
 * Which container instances a request tries. Instances are chosen at random, never from the
 * path or the body: every analysis goes to the same path, so a hash of it would send all the
 * load to one instance.
 */
import { CONTAINER_ATTEMPTS } from "./limits";

/** The Durable Object name of instance `index` (the naming @cloudflare/containers' getRandom uses). */
export function instanceName(index: number): string {
  return `instance-${index}`;
}

/**
 * Up to CONTAINER_ATTEMPTS distinct instance indexes in [0, count): a random first choice, then a
 * random other one, so a retry never lands on the instance that just failed.
 */
export function instanceOrder(count: number, random: () => number = Math.random): number[] {
  const first = Math.floor(random() * count) % count;
  if (count < 2 || CONTAINER_ATTEMPTS < 2) {
    return [first];
  }
  const offset = 1 + (Math.floor(random() * (count - 1)) % (count - 1));
  return [first, (first + offset) % count];
}
