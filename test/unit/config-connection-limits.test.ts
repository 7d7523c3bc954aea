/** Connection timeouts and caps in the configuration: defaults, overrides, and what is refused at start-up. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("connection limits config", () => {
  it("has defaults that close the idle kinds within 30 s, and takes overrides in seconds", () => {
    const defaults = loadConfig({});
    expect(defaults.connections).toEqual({ firstBytesMs: 10_000, headersMs: 15_000, requestMs: 30_000, keepAliveMs: 65_000, h2IdleMs: 30_000, maxPerAddress: 2000 });
    expect(defaults.maxStreamsPerUser).toBe(100);
    const set = loadConfig({ FIRST_BYTES_TIMEOUT_SECONDS: "2", HEADERS_TIMEOUT_SECONDS: "3", REQUEST_TIMEOUT_SECONDS: "4", KEEP_ALIVE_TIMEOUT_SECONDS: "5", H2_IDLE_TIMEOUT_SECONDS: "6", MAX_CONNECTIONS_PER_ADDRESS: "7", MAX_STREAMS_PER_USER: "8" });
    expect(set.connections).toEqual({ firstBytesMs: 2000, headersMs: 3000, requestMs: 4000, keepAliveMs: 5000, h2IdleMs: 6000, maxPerAddress: 7 });
    expect(set.maxStreamsPerUser).toBe(8);
  });

  it("refuses zero, junk, and a headers timeout longer than the request timeout", () => {
    expect(() => loadConfig({ FIRST_BYTES_TIMEOUT_SECONDS: "0" })).toThrow(/FIRST_BYTES_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ MAX_STREAMS_PER_USER: "many" })).toThrow(/MAX_STREAMS_PER_USER/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: "31" })).toThrow(ConfigError);
    expect(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: "31" })).toThrow(/must not exceed REQUEST_TIMEOUT_SECONDS/);
  });
});
