/**
 * The append thread: owns a second connection to the SQLite file and writes each batch it is
 * sent in one transaction, so the commit's fsync blocks this thread and never the server's
 * event loop. Answers every batch, in order, with an AppendReply. Started by AppendThread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./open-database.js";
import { MessageAppender } from "./message-appender.js";
import type { AppendReply, AppendRequest, AppendWorkerData } from "./append-thread.js";

const { file, synchronous } = workerData as AppendWorkerData;
const db = openDatabase(file, synchronous);
const appender = new MessageAppender(db);
const port = parentPort!;

port.on("message", (request: AppendRequest) => {
  if (request.type === "close") {
    db.close();
    port.close();
    return;
  }
  let reply: AppendReply;
  try {
    reply = { type: "appended", outcomes: appender.appendBatch(request.items) };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    reply = { type: "failed", message: String(message ?? error), code: typeof code === "string" ? code : undefined };
  }
  port.postMessage(reply);
});
