/**
 * Push mode of a subscription's frames: instead of one pending next() per message, a consumer
 * that keeps up registers a synchronous receiver, and the stream hands it each live frame
 * directly (after the burst of dispatches, as a waiting next() would get it). The guarantees
 * are those of subscription.ts: the same frames, in the same order, each once — a stream
 * switches between pushing and being pulled without losing or repeating anything.
 */
import type { Frame } from "./stream-contract.js";

/** What a stream pushes to while its consumer keeps up. */
export interface FrameReceiver {
  /**
   * Takes one frame, synchronously; the frame is the receiver's from now on. Returns true to
   * keep receiving, false to leave push mode: the stream then keeps what follows buffered
   * (bounded, overflow ends it as before) until the consumer reads it with next().
   */
  push(frame: Frame): boolean;
  /**
   * Push mode ended without a frame because the stream is ending (abort, overflow, return()):
   * the consumer calls next() to learn how (done, or the error that ended it).
   */
  pull(): void;
}

/** Frames that can also be pushed. */
export interface PushableFrames extends AsyncGenerator<Frame> {
  /**
   * Enters push mode when nothing is waiting to be read (the preamble is sent, the buffer is
   * empty, the stream is live and not ending) and returns true; else returns false and the
   * consumer reads with next(). Push mode lasts until the receiver's push() returns false or
   * its pull() is called.
   */
  pushTo(receiver: FrameReceiver): boolean;
}

/** Whether `frames` offers push mode. */
export function isPushable(frames: AsyncGenerator<Frame>): frames is PushableFrames {
  return typeof (frames as Partial<PushableFrames>).pushTo === "function";
}
