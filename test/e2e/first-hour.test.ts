/**
 * Small things a newcomer meets in the first hour, against the real server: the page has a
 * favicon (served, not a 404); a gRPC client that drops a reflection stream (grpcurl killed,
 * a lost connection) is a cancel, logged at info without a stack — not an internal error; the
 * served OpenAPI document carries the proto comments.
 */
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope } from "../support/raw-rpc.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function untilOutput(test: (output: string) => boolean): Promise<void> {
  await server.printed(test);
}

describe("the first hour", () => {
  it("serves a favicon, as an icon and as SVG, named by the page", async () => {
    const ico = await fetch(`${server.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get("content-type")).toBe("image/x-icon");
    expect([...new Uint8Array(await ico.arrayBuffer()).subarray(0, 4)]).toEqual([0, 0, 1, 0]); // an ICO header
    const svg = await fetch(`${server.url}/favicon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toContain("image/svg+xml");
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toMatch(/<link rel="icon" href="[^"]*favicon\.svg"/);
  });

  it("logs a reflection stream whose client went away at info, without a stack", async () => {
    const session = http2.connect(server.url);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "content-type": "application/grpc",
      te: "trailers",
    });
    // ServerReflectionRequest{list_services: ""} (field 7, a string), and keep the stream open.
    stream.write(envelope(Uint8Array.from([0x3a, 0x00])));
    await new Promise((resolve) => stream.once("data", resolve));
    session.destroy(); // the connection is lost mid-stream
    await untilOutput((output) => output.includes('"procedure":"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"'));
    const line = server.output().split("\n").find((l) => l.includes("ServerReflectionInfo"))!;
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: "rpc" });
    expect(line).not.toContain('"stack"');
    expect(server.output()).not.toContain('"level":50');
  });

  it("describes the REST operations with the proto comments in /openapi.json", async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(doc.paths["/rooms"]?.["post"]?.description).toBe("Creates a room. ALREADY_EXISTS when the name is taken, ignoring case.");
  });
});
