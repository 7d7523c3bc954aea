#!/bin/sh
# Container entrypoint for a Parley node. Parley reads its token signing key from
# TOKEN_PRIVATE_KEY (PKCS#8 PEM); in containers the key comes as a file — a Docker/Kubernetes
# secret, or the shared volume the compose `keygen` service fills — named by
# TOKEN_PRIVATE_KEY_FILE. Every node must get the same key, or tokens issued by one node are
# refused by the others.
set -eu
if [ -z "${TOKEN_PRIVATE_KEY:-}" ] && [ -n "${TOKEN_PRIVATE_KEY_FILE:-}" ]; then
  if [ ! -r "$TOKEN_PRIVATE_KEY_FILE" ]; then
    echo "parley-entrypoint: cannot read TOKEN_PRIVATE_KEY_FILE=$TOKEN_PRIVATE_KEY_FILE" >&2
    exit 2
  fi
  TOKEN_PRIVATE_KEY="$(cat "$TOKEN_PRIVATE_KEY_FILE")"
  export TOKEN_PRIVATE_KEY
fi
exec "$@"
