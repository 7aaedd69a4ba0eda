#!/usr/bin/env bash
# Installs what authbench needs to build and test: libzmq (with libsodium, for
# CURVE) and pkg-config for cgo, and Debian's python3-zmq, python3-jose,
# python3-jwcrypto and python3-pyotp for the interop tests. Runs apt-get only
# when something is missing; as a non-root user it prints the exact command
# and exits non-zero.
set -euo pipefail

need=()
if ! pkg-config --exists libzmq 2>/dev/null; then
  need+=(libzmq3-dev pkg-config)
fi
if [ "${AUTHBENCH_SKIP_PYTHON:-}" != 1 ] && [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 -c 'import zmq' 2>/dev/null || need+=(python3-zmq)
  /usr/bin/python3 -c 'import jose' 2>/dev/null || need+=(python3-jose)
  /usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || need+=(python3-jwcrypto)
  /usr/bin/python3 -c 'import pyotp' 2>/dev/null || need+=(python3-pyotp)
fi
[ ${#need[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing ${need[*]}; run as root: apt-get update && $cmd" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${need[*]}" >&2
if ! $cmd >/tmp/authbench-setup.log 2>&1; then
  apt-get update -qq >>/tmp/authbench-setup.log 2>&1
  $cmd >>/tmp/authbench-setup.log 2>&1 || { tail -20 /tmp/authbench-setup.log >&2; exit 1; }
fi
pkg-config --exists libzmq || { echo "setup: libzmq still not found by pkg-config" >&2; exit 1; }
