/**
 * Messages about a worker's life between it and its primary. How the primary tells a worker to stop: over IPC rather than with a
 * signal, so that a worker that also receives the signal itself (Ctrl-C reaches the whole process
 * group; systemd signals every process of the unit) sees one stop, not two — a second stop
 * signal means "stop now, skip the rest of the grace period".
 */

/** "drain": start the graceful stop (main.ts); "now": also end its grace period at once. */
export interface StopRequest {
  readonly parleyStop: "drain" | "now";
}

export function isStopRequest(message: unknown): message is StopRequest {
  if (typeof message !== "object" || message === null) return false;
  const stop = (message as Partial<StopRequest>).parleyStop;
  return stop === "drain" || stop === "now";
}

/** Worker → primary: the worker could not start; `parleyStartFailed` is what to print (startup-error.ts). */
export interface StartFailure {
  readonly parleyStartFailed: string;
}

export function isStartFailure(message: unknown): message is StartFailure {
  return typeof message === "object" && message !== null && typeof (message as Partial<StartFailure>).parleyStartFailed === "string";
}
