import { describe, expect, it } from "vitest";
import { checkBaseUrl, checkEmail, checkExpiry, checkPassword, checkTotp, parseLimits, splitList } from "./validation";

describe("form validation", () => {
  it("parses limits: blank inherits, counts are whole, budgets may be fractional", () => {
    expect(parseLimits({ rpm: "60", tpm: "", daily_budget: "2.5" })).toEqual({ limits: { rpm: 60, daily_budget: 2.5 }, errors: {} });
    expect(parseLimits({ rpm: "1.5" }).errors.rpm).toBe("Enter a whole number.");
    expect(parseLimits({ tpm: "-1" }).errors.tpm).toBe("Enter a number of 0 or more.");
    expect(parseLimits({ rpm: "abc" }).errors.rpm).toBeDefined();
    expect(parseLimits({ rpm: "0" }).limits).toEqual({ rpm: 0 });
  });

  it("refuses overlapping windows as the API does", () => {
    expect(parseLimits({ tpm: "1000", daily_tokens: "10" }).errors.daily_tokens).toMatch(/fewer than tokens per minute/);
    expect(parseLimits({ daily_tokens: "100", monthly_tokens: "10" }).errors.monthly_tokens).toBeDefined();
    expect(parseLimits({ daily_budget: "5", monthly_budget: "1" }).errors.monthly_budget).toBeDefined();
  });

  it("checks e-mails, passwords, codes, URLs and expiry", () => {
    expect(checkEmail("a@b.example")).toBeUndefined();
    expect(checkEmail("nope")).toBeDefined();
    expect(checkPassword("short")).toMatch(/12 characters/);
    expect(checkPassword("long enough password", "different password")).toMatch(/do not match/);
    expect(checkTotp("123 456")).toBeUndefined();
    expect(checkTotp("12345")).toBeDefined();
    expect(checkBaseUrl("https://api.example.com/v1")).toBeUndefined();
    expect(checkBaseUrl("ftp://x")).toBeDefined();
    expect(checkBaseUrl("not a url")).toBeDefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(checkExpiry("", now)).toEqual({ iso: null });
    expect(checkExpiry("2025-01-01T00:00", now).error).toMatch(/future/);
    expect(checkExpiry("2027-01-01T00:00Z", now).iso).toBe("2027-01-01T00:00:00.000Z");
  });

  it("splits comma and newline lists", () => {
    expect(splitList(" a, b\n c ,, ")).toEqual(["a", "b", "c"]);
  });
});
