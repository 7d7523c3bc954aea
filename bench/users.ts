/**
 * The users and rooms of a run. Two ways to make users:
 *
 * - `seed` (default): before the server starts, users are written through the server's own
 *   Store port (SqliteStore) with ONE precomputed scrypt hash shared by all (each can still sign
 *   in with the bench password), and tokens are issued with the server's own PasetoTokens and
 *   the signing key in the data directory — exactly what SignIn would return. This skips
 *   ~2 × 50–100 ms of scrypt per user, which is not what the bench measures.
 * - `api`: SignUp + SignIn over gRPC in parallel batches, timed separately (never part of the
 *   connect time).
 *
 * Rooms are always created over the API (CreateRoom is cheap).
 */
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../gen/chat/v1/auth_pb.js";
import { RoomService } from "../gen/chat/v1/room_pb.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { PasetoTokens } from "../src/auth/tokens.js";
import { hashPassword } from "../src/auth/passwords.js";
import { SnowflakeGenerator } from "../src/domain/ids.js";
import { uniquenessKey } from "../src/domain/names.js";

export const BENCH_PASSWORD = "bench password 1";
/** Worker id of ids the bench makes itself (the server uses 0..). */
const BENCH_WORKER_ID = 1023;

export interface BenchUser {
  readonly id: string;
  readonly name: string;
  readonly token: string;
}

function userName(i: number): string {
  return `bench${i}`;
}

/** Creates `count` users in a fresh data directory, before the server starts. */
export async function seedUsers(dataDir: string, count: number): Promise<BenchUser[]> {
  const store = new SqliteStore({ file: join(dataDir, "parley.sqlite"), synchronous: "NORMAL" });
  const tokens = await PasetoTokens.create({ keyFile: join(dataDir, "token-signing-key.pem"), lifetimeSeconds: 12 * 3600 });
  const ids = new SnowflakeGenerator(BENCH_WORKER_ID);
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const users: BenchUser[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = ids.next();
      const name = userName(i);
      await store.createUser({ id, username: name, usernameKey: uniquenessKey(name), passwordHash, createdAtMs: Date.now() });
      const { token } = await tokens.issue({ id, username: name });
      users.push({ id, name, token });
    }
  } finally {
    await store.close();
  }
  return users;
}

/** Signs `count` users up and in over gRPC, `concurrency` at a time. */
export async function signUpUsers(baseUrl: string, count: number, concurrency: number): Promise<BenchUser[]> {
  const auth = createClient(AuthService, createGrpcTransport({ baseUrl }));
  const users = new Array<BenchUser>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const name = userName(i);
        await auth.signUp({ username: name, password: BENCH_PASSWORD });
        const { accessToken, user } = await auth.signIn({ username: name, password: BENCH_PASSWORD });
        users[i] = { id: user!.userId, name, token: accessToken };
      }
    }),
  );
  return users;
}

/** Creates `count` rooms as `owner`, 32 at a time; returns their ids in order. */
export async function createRooms(baseUrl: string, owner: BenchUser, count: number, prefix = "bench-room"): Promise<string[]> {
  const rooms = createClient(RoomService, createGrpcTransport({ baseUrl }));
  const ids = new Array<string>(count);
  let next = 0;
  const headers = { authorization: `Bearer ${owner.token}` };
  await Promise.all(
    Array.from({ length: Math.min(32, count) }, async () => {
      while (next < count) {
        const i = next++;
        const { room } = await rooms.createRoom({ name: `${prefix}-${i}` }, { headers });
        ids[i] = room!.roomId;
      }
    }),
  );
  return ids;
}
