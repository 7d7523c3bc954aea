/** The client's fault suite over Connect (binary, HTTP/1.1) from Node. */
import { createParleyClient } from "@parley/client/node";
import { SUITE_CLIENT } from "./support/harness.js";
import { RecordingSubscriber } from "./support/recording-subscriber.js";
import { faultSuite } from "./support/suite.js";

faultSuite({
  label: "Connect (Node, HTTP/1.1)",
  appFor: (h) => async (token) => new RecordingSubscriber(createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token, ...SUITE_CLIENT })),
});
