/**
 * The Worker's environment. `wrangler types` generates its bindings and variables from
 * wrangler.toml into worker-configuration.d.ts (`npm run types`; `npm test` fails while that
 * file is stale); this adds the two names a Worker must be ready to find unset.
 */
export type Env = Omit<Cloudflare.Env, "IMAGE_INSIGHTS_API_KEY"> & {
  /**
   * Secret: comma-separated API keys. wrangler.toml lists it in `secrets.required`, so a deploy
   * without it fails; it is still optional here because a deliberately public deployment
   * (PUBLIC_API) drops it from that list and `wrangler secret delete` can remove it later.
   */
  IMAGE_INSIGHTS_API_KEY?: string;
  /** Local runs only (`npm run dev:local`): when set, requests go there instead of to a container. */
  LOCAL_ORIGIN?: string;
};
