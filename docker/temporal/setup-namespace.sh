#!/bin/sh
# One-shot job (temporalio/admin-tools): waits for the Temporal frontend, creates the namespace when it is missing
# and registers mediamesh's custom search attributes on it. Safe to run again: it only adds what is missing.
# (`mediamesh up` does the same for an external cluster, but compose runs the workers directly.)
# Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, NAMESPACE_RETENTION, SEARCH_ATTRIBUTES ("Name=Type Name=Type ...").
set -eu

address="${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${NAMESPACE_RETENTION:-168h}"
attributes="${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required}"

# retry WHAT COMMAND...: up to 60 attempts 2 s apart (the frontend needs a moment after its port opens, and a new
# namespace reaches every frontend through the namespace cache only after a refresh).
retry() {
  what=$1
  shift
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 60 ]; then
      echo "temporal-setup: gave up on $what after $attempt attempts" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
}

cluster_healthy() {
  temporal operator cluster health --address "$address" >/dev/null 2>&1
}

namespace_ready() {
  if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
    return 0
  fi
  temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention" || true
  return 1
}

# ensure_attribute NAME TYPE
ensure_attribute() {
  if temporal operator search-attribute list --address "$address" --namespace "$namespace" 2>/dev/null | grep -qw "$1"; then
    return 0
  fi
  temporal operator search-attribute create --address "$address" --namespace "$namespace" --name "$1" --type "$2"
}

retry "the Temporal frontend at $address" cluster_healthy
retry "namespace $namespace" namespace_ready
echo "temporal-setup: namespace $namespace ready"
for pair in $attributes; do
  name=${pair%%=*}
  type=${pair#*=}
  retry "search attribute $name" ensure_attribute "$name" "$type"
  echo "temporal-setup: search attribute $name ($type) registered"
done
