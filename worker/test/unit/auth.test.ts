import { describe, expect, it } from "vitest";
import { configuredKeys, isAcceptedKey } from "../../src/auth";

describe("configuredKeys", () => {
  it.each([
    [undefined, null],
    ["one", ["one"]],
    [" one , two,,three ", ["one", "two", "three"]],
    [" , ", []],
    ["", []],
  ])("reads %j as %j", (secret, keys) => {
    expect(configuredKeys(secret)).toEqual(keys);
  });
});

describe("isAcceptedKey", () => {
  const keys = ["current-key", "previous-key"];

  it.each(["current-key", "previous-key"])("accepts %s", async (presented) => {
    expect(await isAcceptedKey(presented, keys)).toBe(true);
  });

  it.each([null, "", "current", "current-key ", "CURRENT-KEY", "current-keyx", "current-key,previous-key"])(
    "refuses %j",
    async (presented) => {
      expect(await isAcceptedKey(presented, keys)).toBe(false);
    },
  );

  it("refuses everything when the secret holds no key", async () => {
    expect(await isAcceptedKey("anything", [])).toBe(false);
  });
});
