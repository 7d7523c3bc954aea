#!/usr/bin/env bash
# Gathers the third-party .proto files our API imports into build/proto-deps/:
#   google/api/*.proto      from the npm package google-proto-files
#   buf/validate/*.proto    from the Go module github.com/bufbuild/protovalidate (pinned below)
#   grpc/health, grpc/reflection from the npm packages grpc-health-check and @grpc/reflection
# The Buf Schema Registry is out of reach here, so buf.yaml has no remote deps.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOVALIDATE_VERSION=v1.2.2
out=build/proto-deps
rm -rf "$out" && mkdir -p "$out/google/api" "$out/buf/validate" "$out/grpc/health/v1" "$out/grpc/reflection/v1" "$out/grpc/reflection/v1alpha"

cp node_modules/google-proto-files/google/api/{annotations,http}.proto "$out/google/api/"
cp node_modules/grpc-health-check/proto/health/v1/health.proto "$out/grpc/health/v1/"
cp node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto "$out/grpc/reflection/v1/"
cp node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto "$out/grpc/reflection/v1alpha/"

# `go mod download` needs a module to run in; a throwaway one keeps our tree clean.
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
(cd "$mod" && go mod init parley-proto-deps >/dev/null 2>&1 &&
  GOFLAGS=-mod=mod go mod download -json "github.com/bufbuild/protovalidate@${PROTOVALIDATE_VERSION}" >"$mod/dl.json")
dir=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).Dir)' "$mod/dl.json")
cp "$dir/proto/protovalidate/buf/validate/validate.proto" "$out/buf/validate/"
chmod -R u+w "$out"
