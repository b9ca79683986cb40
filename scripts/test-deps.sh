#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing (as root; otherwise says what to install):
# OpenSSH client and server (real logins, real sshd hosts), PostgreSQL (the store contract suite), Chromium
# (the console's browser tests, driven by playwright-core), sudo (hosts managed by a non-root user), HAProxy (the
# cluster tests' load balancer, health-checking /readyz).
set -euo pipefail
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 && command -v sftp >/dev/null 2>&1 || need+=(openssh-client)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need these Debian packages: ${need[*]} (sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "== apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# sshd's privilege-separation directory; Debian creates it only when its own service starts.
mkdir -p /run/sshd 2>/dev/null || true
