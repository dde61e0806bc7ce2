/**
 * API-key check: keys come from the IMAGE_INSIGHTS_API_KEY secret, comma-separated for rotation.
 * Without the secret the edge serves only when the PUBLIC_API variable says the API is public.
 */

export const API_KEY_HEADER = "X-API-Key";

/** Whether PUBLIC_API says the API is deliberately served without keys: "true", any case, nothing else. */
export function isPublicApi(flag: string | undefined): boolean {
  return flag?.trim().toLowerCase() === "true";
}

/**
 * The keys the secret holds, or null when no secret is set.
 * A secret that is set but holds no key (only blanks and commas) yields an empty list, which
 * no request can match: a mistyped secret closes the API instead of opening it.
 */
export function configuredKeys(secret: string | undefined): string[] | null {
  if (secret === undefined) {
    return null;
  }
  return secret
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/**
 * Whether `presented` equals one of `keys`. Both sides are hashed first so the compared buffers
 * always have the same length, and every key is compared, so the time taken says nothing about
 * which key or how much of it matched.
 */
export async function isAcceptedKey(presented: string | null, keys: readonly string[]): Promise<boolean> {
  if (presented === null || presented.length === 0) {
    return false;
  }
  const presentedDigest = await sha256(presented);
  let accepted = false;
  for (const key of keys) {
    const keyDigest = await sha256(key);
    const equal = crypto.subtle.timingSafeEqual(presentedDigest, keyDigest);
    accepted = equal || accepted;
  }
  return accepted;
}
