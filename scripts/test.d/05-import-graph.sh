#!/usr/bin/env bash
# No import loops between the files of core, admin and bindings (issue 10). The checker first
# proves on tiny synthetic crates that it catches a loop, then checks the real ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v python3 >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -q </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3 </dev/null
fi
if python3 scripts/import-cycles.py --self-test && python3 scripts/import-cycles.py core/src admin/src bindings/src; then
  echo "PASS import graph: no loops in core/src, admin/src, bindings/src"
else
  echo "FAIL import graph: see the loops above"
  exit 1
fi
