/**
 * docker-compose.yml, the Dockerfile and deploy/ checked without a Docker engine: the YAML parses,
 * the services, images, health-gated start order, node environment and published ports are as
 * documented, and every file they reference exists.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { imageCommand } from "../support/image-command.js";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  environment?: Record<string, string | number>;
  env_file?: string[] | string;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  command?: string[];
}

const compose = load(read("docker-compose.yml")) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const NODES = ["parley-1", "parley-2"] as const;

/** KEY=value lines of an env file (comments and blank lines skipped). */
function envFile(path: string): Record<string, string> {
  const entries = read(path)
    .split("\n")
    .filter((line) => line.trim() && !line.trimStart().startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
  return Object.fromEntries(entries);
}

/** The environment a service's container gets: env_file entries, then `environment`. */
function environmentOf(service: Service): Record<string, string> {
  const files = service.env_file === undefined ? [] : ([] as string[]).concat(service.env_file);
  const merged: Record<string, string> = {};
  for (const file of files) Object.assign(merged, envFile(file));
  for (const [key, value] of Object.entries(service.environment ?? {})) merged[key] = String(value);
  return merged;
}

describe("docker-compose.yml", () => {
  it("has Cassandra 5.0, Kafka 4 in KRaft mode, two Parley nodes, a key generator and a load balancer", () => {
    expect(Object.keys(services).sort()).toEqual(["cassandra", "kafka", "keygen", "lb", "parley-1", "parley-2"]);
    expect(services.cassandra!.image).toMatch(/^cassandra:5\.0(\.\d+)?$/);
    expect(services.kafka!.image).toMatch(/^apache\/kafka:4\.\d+\.\d+$/);
    expect(services.lb!.image).toMatch(/^nginx:/);
    const kafkaEnv = environmentOf(services.kafka!);
    expect(kafkaEnv.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(kafkaEnv.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe("1@kafka:9093");
    expect(kafkaEnv.KAFKA_ADVERTISED_LISTENERS).toBe("PLAINTEXT://kafka:9092");
    expect(Object.keys(kafkaEnv).some((k) => k.includes("ZOOKEEPER"))).toBe(false);
  });

  it("builds both nodes from the Dockerfile and gives each the cluster settings and its own worker id", () => {
    const envs = NODES.map((name) => environmentOf(services[name]!));
    for (const [i, name] of NODES.entries()) {
      const service = services[name]!;
      expect(service.build).toEqual({ context: ".", dockerfile: "Dockerfile" });
      const env = envs[i]!;
      expect(env).toMatchObject({
        STORE: "cassandra",
        BUS: "kafka",
        CASSANDRA_CONTACT_POINTS: "cassandra:9042",
        KAFKA_BROKERS: "kafka:9092",
        PORT: "8080",
        HOST: "0.0.0.0",
      });
      expect(env.WORKER_ID).toBe(String((i + 1) * 100));
    }
    // Same keyspace, topics and signing key on both nodes; different worker ids.
    for (const key of ["CASSANDRA_KEYSPACE", "KAFKA_TOPIC_PREFIX", "TOKEN_PRIVATE_KEY_FILE", "TOKEN_PRIVATE_KEY"]) {
      expect(envs[0]![key], key).toBe(envs[1]![key]);
    }
    expect(envs[0]!.TOKEN_PRIVATE_KEY_FILE).toMatch(/^\/run\/parley-keys\//);
    for (const name of NODES) expect(services[name]!.volumes).toContain("parley-keys:/run/parley-keys:ro");
    expect(services.keygen!.volumes).toContain("parley-keys:/keys");
    expect(services.keygen!.command).toContain(`/keys/${envs[0]!.TOKEN_PRIVATE_KEY_FILE!.split("/").pop()}`);
  });

  it("starts each service only once what it needs is healthy", () => {
    for (const name of NODES) {
      expect(services[name]!.depends_on).toMatchObject({
        cassandra: { condition: "service_healthy" },
        kafka: { condition: "service_healthy" },
        keygen: { condition: "service_completed_successfully" },
      });
    }
    expect(services["parley-2"]!.depends_on!["parley-1"]).toEqual({ condition: "service_healthy" });
    expect(services.lb!.depends_on).toEqual({ "parley-1": { condition: "service_healthy" }, "parley-2": { condition: "service_healthy" } });
    // Everything waited on as healthy has a health check.
    const awaited = Object.values(services).flatMap((s) =>
      Object.entries(s.depends_on ?? {})
        .filter(([, d]) => d.condition === "service_healthy")
        .map(([name]) => name),
    );
    for (const name of new Set(awaited)) expect(services[name]!.healthcheck?.test, name).toBeTruthy();
    expect(JSON.stringify(services["parley-1"]!.healthcheck!.test)).toContain("/healthz");
  });

  it("publishes only the load balancer: HTTP/1.1 on 8080 and gRPC (h2c) on 8081", () => {
    expect(services.lb!.ports).toEqual(["8080:8080", "8081:8081"]);
    for (const [name, service] of Object.entries(services)) if (name !== "lb") expect(service.ports, name).toBeUndefined();
  });

  it("references only files that exist, and named volumes that are declared", () => {
    const files = new Set<string>(["Dockerfile", ".dockerignore"]);
    for (const service of Object.values(services)) {
      for (const file of ([] as string[]).concat(service.env_file ?? [])) files.add(file);
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(":");
        if (source!.startsWith(".") || source!.startsWith("/")) files.add(source!);
        else expect(Object.keys(compose.volumes ?? {}), volume).toContain(source);
      }
      if (typeof service.build === "object") files.add(join(service.build.context, service.build.dockerfile ?? "Dockerfile"));
    }
    for (const file of files) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");

  it("builds on node:24-slim with npm ci and npm run build, and runs node on the build through the key entrypoint", () => {
    expect(dockerfile).toMatch(/^FROM node:24-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run -s build && npm prune --omit=dev\b/m);
    // Exec form, node first: the server is the process `docker stop` signals (test/e2e/built-server.test.ts).
    expect(imageCommand()[0]).toBe("node");
    expect(imageCommand().at(-1)).toBe("dist/src/main.js");
    expect(dockerfile).toMatch(/^USER node$/m);
    const entrypoint = /^ENTRYPOINT \["\/app\/(.+?)"\]$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBe("deploy/parley-entrypoint.sh");
    accessSync(join(ROOT, entrypoint!), constants.X_OK);
    expect(read(entrypoint!)).toContain('TOKEN_PRIVATE_KEY="$(cat "$TOKEN_PRIVATE_KEY_FILE")"');
  });

  it("keeps node_modules and local data out of the build context", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const entry of ["node_modules", "data", ".git"]) expect(ignored).toContain(entry);
  });
});

describe("deploy/nginx.conf", () => {
  const conf = read("deploy/nginx.conf");

  it("balances over both nodes, upgrades WebSockets, streams without buffering and passes gRPC as h2c", () => {
    for (const node of NODES) expect(conf).toContain(`server ${node}:8080`);
    expect(conf).toMatch(/listen 8080;/);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(conf).toMatch(/proxy_buffering off;/);
    expect(conf).toMatch(/listen 8081;\s*http2 on;/);
    expect(conf).toMatch(/grpc_pass grpc:\/\/parley_grpc;/);
  });

  it("is the file the balancer mounts, and its address is the nodes' trusted proxy", () => {
    expect(services.lb!.volumes).toContain("./deploy/nginx.conf:/etc/nginx/nginx.conf:ro");
    const lbAddress = read("docker-compose.yml").match(/ipv4_address: ([\d.]+)/)?.[1];
    expect(environmentOf(services["parley-1"]!).TRUSTED_PROXIES).toBe(lbAddress);
  });
});
