/**
 * The store of one worker process when several workers share one SQLite file (WORKERS > 1 with
 * the cluster bus): reads and every other write go to the file directly, but message appends go
 * to the primary process (cluster/sequencer.ts), the node's one message writer. It gives each
 * message its final id in commit order and broadcasts it to every worker right after the commit,
 * so on the whole node id order = commit order = live delivery order — which is what makes
 * resuming with `since` lossless when several processes post to one room.
 *
 * appendMessage therefore returns the message with a later id than the one proposed (see the
 * Store port); callers use the returned message.
 */
import type { IpcPort } from "../../bus/cluster/cluster-bus.js";
import { type AppendRequest, isAppendReply } from "../../cluster/append-envelopes.js";
import type { ChatMessage, MessagePage, RoomRecord, UserCredentials } from "../../domain/model.js";
import type { AppendResult, IdempotencyKey, Revocation, Store } from "../store.js";

interface Pending {
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class SequencedStore implements Store {
  readonly #pending = new Map<number, Pending>();
  #nextRef = 1;
  #closed = false;
  readonly #onMessage = (message: unknown) => {
    if (!isAppendReply(message)) return;
    const { ref, result, error } = message.parleyAppended;
    const pending = this.#pending.get(ref);
    if (!pending) return;
    this.#pending.delete(ref);
    if (result) pending.resolve(result);
    else pending.reject(new Error(`the primary could not store the message: ${error ?? "unknown error"}`));
  };
  readonly #onDisconnect = () => this.#failPending(new Error("the primary process is gone; the message may or may not be stored"));

  constructor(
    private readonly local: Store,
    private readonly port: IpcPort & { on(event: "disconnect", listener: () => void): unknown; off(event: "disconnect", listener: () => void): unknown } = process,
  ) {
    if (!port.send) throw new Error("the sequenced store needs an IPC channel to the primary (run with WORKERS > 1)");
    port.on("message", this.#onMessage);
    port.on("disconnect", this.#onDisconnect);
  }

  appendMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    const ref = this.#nextRef++;
    const request: AppendRequest = { parleyAppend: idempotency ? { ref, message, idempotency } : { ref, message } };
    return new Promise((resolve, reject) => {
      this.#pending.set(ref, { resolve, reject });
      this.port.send!(request, (error) => {
        if (!error) return;
        this.#pending.delete(ref);
        reject(error);
      });
    });
  }

  /** Only log-first buses record named messages, and they never run with this store: straight through. */
  recordMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<void> {
    return this.local.recordMessage(message, idempotency);
  }

  findMessageByKey(senderId: string, key: string): Promise<ChatMessage | undefined> {
    return this.local.findMessageByKey(senderId, key);
  }

  createUser(user: UserCredentials & { readonly usernameKey: string }): Promise<void> {
    return this.local.createUser(user);
  }
  findUserById(id: string) {
    return this.local.findUserById(id);
  }
  findUserByNameKey(usernameKey: string) {
    return this.local.findUserByNameKey(usernameKey);
  }
  createRoom(room: RoomRecord & { readonly nameKey: string }): Promise<void> {
    return this.local.createRoom(room);
  }
  findRoom(id: string) {
    return this.local.findRoom(id);
  }
  listRooms(afterId: string | undefined, limit: number) {
    return this.local.listRooms(afterId, limit);
  }
  listRoomMessages(roomId: string, page: MessagePage) {
    return this.local.listRoomMessages(roomId, page);
  }
  listInbox(userId: string, page: MessagePage) {
    return this.local.listInbox(userId, page);
  }
  listConversation(userId: string, otherUserId: string, page: MessagePage) {
    return this.local.listConversation(userId, otherUserId, page);
  }
  revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    return this.local.revokeToken(tokenId, expiresAtMs);
  }
  isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.local.isTokenRevoked(tokenId);
  }
  listRevocationsSince(sinceMs: number): Promise<Revocation[]> {
    return this.local.listRevocationsSince(sinceMs);
  }
  redeemOnce(nonce: string, expiresAtMs: number): Promise<boolean> {
    return this.local.redeemOnce(nonce, expiresAtMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.port.off("message", this.#onMessage);
    this.port.off("disconnect", this.#onDisconnect);
    this.#failPending(new Error("the store is closed"));
    await this.local.close();
  }

  #failPending(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }
}
