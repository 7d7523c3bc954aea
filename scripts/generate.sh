#!/usr/bin/env bash
# Rebuilds gen/ from proto/: lint, then protoc-gen-es, then the descriptor set. gen/ is committed;
# CI fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/proto-deps.sh
npx buf lint
npx buf generate --path proto/chat \
  --path build/proto-deps/google/api \
  --path build/proto-deps/grpc
# gen/chat.binpb: the chat API and grpc.health.v1 as one FileDescriptorSet, every import included,
# with comments (source info) — for grpcurl -protoset, other languages' dynamic clients and the
# OpenAPI descriptions, without Go or buf on the machine. After `buf generate`, which empties gen/.
npx buf build --path proto/chat --path build/proto-deps/grpc/health -o gen/chat.binpb
