/** The repository's wrangler.toml, read by wrangler's own parser, typed for what the tests use. */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { experimental_readRawConfig } from "wrangler";

export const workerDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const repoRoot = resolve(workerDir, "..");

export interface WranglerToml {
  name?: string;
  main?: string;
  compatibility_date?: string;
  vars?: Record<string, string>;
  secrets?: { required?: string[] };
  observability?: { enabled?: boolean };
  containers?: { class_name: string; image: string; instance_type?: string; max_instances?: number }[];
  durable_objects?: { bindings?: { name: string; class_name: string }[] };
  ratelimits?: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
  migrations?: { tag: string; new_sqlite_classes?: string[] }[];
  dev?: { ip?: string; port?: number };
  [key: string]: unknown;
}

export function readWranglerToml(): WranglerToml {
  return experimental_readRawConfig({ config: resolve(repoRoot, "wrangler.toml") }).rawConfig as WranglerToml;
}
