/**
 * One subscribe stream over WebSocket (/ws), Server-Sent Events or gRPC (@grpc/grpc-js), read
 * the same way: the stream reports its Ready, each message (id and client_message_id), gaps, and
 * its end exactly once. These are plain clients of the documented protocols (README), not
 * the project's own code, so what they record is what any client would see.
 */
import { request } from "node:http";
import type * as grpc from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { bearer, grpcJsClient, serverStream } from "../support/grpc-js-client.js";

export const TRANSPORTS = ["ws", "sse", "grpc"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** A room, or the inbox of the user whose token subscribes. */
export type Target = { readonly roomId: string } | { readonly inbox: true };

export interface StreamEvents {
  ready(position: string): void;
  message(id: string, clientMessageId: string): void;
  gap(after: string, before: string): void;
  /** Called once, however the stream ended (server, network, or close()). */
  end(reason: string): void;
}

export interface OpenedStream {
  /** Ends the stream from the client side (end() is then called with "closed"). */
  close(): void;
}

export function openStream(transport: Transport, baseUrl: string, token: string, target: Target, since: string, events: StreamEvents): OpenedStream {
  // After its end a stream reports nothing more: frames a library still delivers after a
  // cancel belong to no stream the client reads (its next stream resumes after its cursor).
  let ended = false;
  const once: StreamEvents = {
    ready(position) {
      if (!ended) events.ready(position);
    },
    message(id, clientMessageId) {
      if (!ended) events.message(id, clientMessageId);
    },
    gap(after, before) {
      if (!ended) events.gap(after, before);
    },
    end(reason) {
      if (ended) return;
      ended = true;
      events.end(reason);
    },
  };
  switch (transport) {
    case "ws":
      return wsStream(baseUrl, token, target, since, once);
    case "sse":
      return sseStream(baseUrl, token, target, since, once);
    case "grpc":
      return grpcStream(baseUrl, token, target, since, once);
  }
}

type MessageJson = { messageId?: string; clientMessageId?: string };

function wsStream(baseUrl: string, token: string, target: Target, since: string, events: StreamEvents): OpenedStream {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${token}` } });
  ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", ...("roomId" in target ? { room_id: target.roomId } : { dms: true }), since })));
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as { type: string; position?: string; message?: MessageJson; after?: string; before?: string; code?: string };
    if (frame.type === "ready") events.ready(frame.position ?? "");
    else if (frame.type === "message") events.message(frame.message?.messageId ?? "", frame.message?.clientMessageId ?? "");
    else if (frame.type === "gap") events.gap(frame.after ?? "", frame.before ?? "");
    else if (frame.type === "error") {
      // The subscription ended (the socket would stay open for others): this client reconnects.
      events.end(`ws error frame ${frame.code}`);
      ws.terminate();
    }
  });
  ws.on("unexpected-response", (_req, res) => {
    events.end(`ws upgrade answered ${res.statusCode}`);
    ws.terminate();
  });
  ws.on("error", (error) => events.end(`ws error: ${error.message}`));
  ws.on("close", (code, reason) => events.end(`ws closed ${code} ${String(reason)}`));
  return {
    close() {
      events.end("closed");
      ws.terminate();
    },
  };
}

function sseStream(baseUrl: string, token: string, target: Target, since: string, events: StreamEvents): OpenedStream {
  const path = "roomId" in target ? `/room/${target.roomId}/subscribe` : "/me/subscribe";
  const url = new URL(`${path}${since ? `?since=${encodeURIComponent(since)}` : ""}`, baseUrl);
  const req = request(url, { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } }, (res) => {
    if (res.statusCode !== 200) {
      events.end(`sse answered ${res.statusCode}`);
      res.resume();
      return;
    }
    res.setEncoding("utf8");
    let buffer = "";
    let event = { type: "message", id: "", data: "" };
    res.on("data", (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (event.data !== "") dispatch(event.type, event.data);
          event = { type: "message", id: "", data: "" };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.type = value;
          else if (field === "id") event.id = value;
          else if (field === "data") event.data += event.data === "" ? value : `\n${value}`;
        }
      }
    });
    res.on("end", () => events.end("sse response ended"));
    res.on("error", (error) => events.end(`sse error: ${error.message}`));
  });
  const dispatch = (type: string, data: string) => {
    const value = JSON.parse(data) as MessageJson & { position?: string; after?: string; before?: string; code?: string };
    if (type === "ready") events.ready(value.position ?? "");
    else if (type === "message") events.message(value.messageId ?? "", value.clientMessageId ?? "");
    else if (type === "gap") events.gap(value.after ?? "", value.before ?? "");
    else if (type === "end") events.end(`sse end event ${value.code}`);
  };
  req.on("error", (error) => events.end(`sse error: ${error.message}`));
  req.end();
  return {
    close() {
      events.end("closed");
      req.destroy();
    },
  };
}

type GrpcFrame = { frame: { case: string | undefined; value?: { position?: string; messageId?: string; clientMessageId?: string; after?: string; before?: string } } };

function grpcStream(baseUrl: string, token: string, target: Target, since: string, events: StreamEvents): OpenedStream {
  const client = grpcJsClient(MessageService, new URL(baseUrl).host);
  const stream: grpc.ClientReadableStream<GrpcFrame> =
    "roomId" in target
      ? serverStream(client, "subscribeRoom", { roomId: target.roomId, since }, bearer(token))
      : serverStream(client, "subscribeDirectMessages", { since }, bearer(token));
  stream.on("data", ({ frame }: GrpcFrame) => {
    if (frame.case === "ready") events.ready(frame.value?.position ?? "");
    else if (frame.case === "message") events.message(frame.value?.messageId ?? "", frame.value?.clientMessageId ?? "");
    else if (frame.case === "gap") events.gap(frame.value?.after ?? "", frame.value?.before ?? "");
  });
  stream.on("error", (error: grpc.ServiceError) => events.end(`grpc ${error.code} ${error.details}`));
  stream.on("end", () => events.end("grpc stream ended"));
  const done = () => client.close();
  stream.on("close", done);
  return {
    close() {
      events.end("closed");
      stream.cancel();
      done();
    },
  };
}
