/**
 * One subscribe stream's frames as the load generator counts them, whatever carries them: the
 * first frame must be Ready (it resolves `ready`), then each message's marker is recorded in the
 * receipts, heartbeats and presence frames are counted and typing frames timed; anything else is an `unexpected_frame` error. The end of
 * the stream is a `stream_ended` error unless the client closed it on purpose.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { SubscribeRoomResponseSchema } from "../../../gen/chat/v1/message_pb.js";
import type { Receipts } from "../receipts.js";
import {
  FRAME_GAP,
  FRAME_HEARTBEAT,
  FRAME_MESSAGE,
  FRAME_PRESENCE,
  FRAME_READY,
  FRAME_TYPING,
  readFrame,
  type TextRange,
} from "./subscribe-frames.js";

const CASES = ["none", "message", "ready", "heartbeat", "gap", "read", "typing", "presence"];
/** Shared by every follower: readFrame fills it and the marker is read before the next frame. */
const TEXT: TextRange = { start: 0, end: 0, untilMs: 0 };

/** Follows one stream: counts each frame it is given into the receipts, and its end once. */
export class FrameFollower {
  /** Resolves on the Ready frame; rejects when the stream fails or ends first. */
  readonly ready: Promise<void>;
  readonly #receipts: Receipts;
  readonly #isClosing: () => boolean;
  readonly #observer: boolean;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #isReady = false;
  #ended = false;

  /** `observer`: decode presence frames' joined lists (one stream per load process; the others only count them). */
  constructor(receipts: Receipts, isClosing: () => boolean, observer = false) {
    this.#receipts = receipts;
    this.#isClosing = isClosing;
    this.#observer = observer;
    this.ready = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Reads one frame (a SubscribeXResponse in `bytes[start, end)`). */
  frame(bytes: Buffer, start: number, end: number): void {
    if (this.#ended) return;
    const kind = readFrame(bytes, start, end, TEXT);
    const receipts = this.#receipts;
    if (!this.#isReady) {
      if (kind !== FRAME_READY) return this.end(new Error(`first frame was ${CASES[kind] ?? "malformed"}`));
      this.#isReady = true;
      receipts.open++;
      this.#resolve();
    } else if (kind === FRAME_MESSAGE) {
      if (receipts.bytes(bytes, TEXT.start, TEXT.end) === 0) receipts.error("unexpected_frame", "message without marker");
    } else if (kind === FRAME_HEARTBEAT) receipts.heartbeats++;
    else if (kind === FRAME_PRESENCE) {
      receipts.presenceFrames++;
      if (this.#observer) this.#observe(bytes.subarray(start, end));
    }
    else if (kind === FRAME_TYPING) receipts.typing(TEXT.untilMs ?? 0);
    else receipts.error("unexpected_frame", kind === FRAME_GAP ? "gap" : CASES[kind] ?? "malformed frame");
  }

  #observe(bytes: Uint8Array): void {
    const { frame } = fromBinary(SubscribeRoomResponseSchema, bytes);
    if (frame.case !== "presence" || frame.value.snapshot) return;
    this.#receipts.joined(frame.value.joined.map((sender) => sender.userId));
  }

  /** The stream is over: `error` says why (none: the server ended it cleanly). Later calls do nothing. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#isReady) return this.#reject(error ?? new Error("stream ended before ready"));
    this.#receipts.open--;
    if (!this.#isClosing()) this.#receipts.error("stream_ended", error ?? "server ended the stream");
  }
}
