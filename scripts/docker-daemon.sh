# Sourced by the scripts that need a Docker engine: `ensure_dockerd` starts Debian's dockerd when
# none answers (and registers a trap that stops it when the script exits, so only what the script
# started is stopped); `docker_available` says whether an engine answers, without starting one.
# shellcheck shell=bash

PAIRFLOW_DOCKERD_PID=""

# Debian's docker.io client (it builds with BuildKit by itself; a newer client elsewhere on PATH
# may insist on a buildx plugin).
if [ -x /usr/bin/docker ]; then
  docker() { /usr/bin/docker "$@"; }
fi

docker_available() { docker info >/dev/null 2>&1; }

ensure_dockerd() {
  if docker_available; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker: no engine answers and dockerd is not installed (scripts/bootstrap installs docker.io)" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker: no engine answers and starting dockerd needs root" >&2
    return 1
  fi
  local log=${TMPDIR:-/tmp}/pairflow-dockerd.log
  dockerd >"$log" 2>&1 &
  PAIRFLOW_DOCKERD_PID=$!
  trap 'stop_dockerd' EXIT
  for _ in $(seq 1 60); do
    if docker_available; then
      echo "docker: started dockerd (pid $PAIRFLOW_DOCKERD_PID; log $log)" >&2
      return 0
    fi
    if ! kill -0 "$PAIRFLOW_DOCKERD_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "docker: dockerd did not come up: $(tail -1 "$log" 2>/dev/null)" >&2
  stop_dockerd
  return 1
}

stop_dockerd() {
  if [ -n "$PAIRFLOW_DOCKERD_PID" ]; then
    kill "$PAIRFLOW_DOCKERD_PID" 2>/dev/null || true
    wait "$PAIRFLOW_DOCKERD_PID" 2>/dev/null || true
    PAIRFLOW_DOCKERD_PID=""

# Debian's docker.io client (it builds with BuildKit by itself; a newer client elsewhere on PATH
# may insist on a buildx plugin).
if [ -x /usr/bin/docker ]; then
  docker() { /usr/bin/docker "$@"; }
fi
  fi
}
