// The Worker the unit tests run: the real entry point's exports, plus one Durable Object class
// that only lends its state to tests that build ImageInsightsContainer by hand (workerd under
// vitest runs no containers, so that class cannot be bound itself). The names are listed one by
// one because the test runner builds ctx.exports from the names this file exports itself.
import { DurableObject } from "cloudflare:workers";

export { ContainerProxy, ImageInsightsContainer, default, handleRequest, isMetricsPath } from "../../src/index";

export class StateDonor extends DurableObject {
  /** The Container class schedules alarms on the storage it was given; here they have nothing to do. */
  override async alarm(): Promise<void> {}
}
