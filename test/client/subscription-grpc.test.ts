/** The client's fault suite over gRPC (HTTP/2 cleartext) from Node. */
import { createParleyClient } from "@parley/client/node";
import { SUITE_CLIENT } from "./support/harness.js";
import { RecordingSubscriber } from "./support/recording-subscriber.js";
import { faultSuite } from "./support/suite.js";

faultSuite({
  label: "gRPC (Node, HTTP/2)",
  appFor: (h) => async (token) =>
    new RecordingSubscriber(createParleyClient({ baseUrl: h.proxy.url, transport: "grpc", token, ...SUITE_CLIENT, pingIntervalMs: 2_000, pingTimeoutMs: 2_000 })),
});
