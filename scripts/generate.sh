#!/usr/bin/env bash
# Rebuilds gen/ from proto/: lint, then protoc-gen-es. gen/ is committed; CI fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/proto-deps.sh
npx buf lint
npx buf generate --path proto/chat \
  --path build/proto-deps/google/api \
  --path build/proto-deps/grpc
