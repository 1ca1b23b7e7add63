#!/usr/bin/env bash
# Installs what `make test` needs and is not part of Go modules: the aws CLI
# (the e2e tests drive real binaries with it). Idempotent and quiet when all
# is there.
set -euo pipefail
if ! command -v aws >/dev/null 2>&1; then
	echo "test-deps: installing the aws CLI" >&2
	if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
		$(command -v pip3 || command -v pip) install --quiet awscli || true
	fi
	if ! command -v aws >/dev/null 2>&1; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq awscli >/dev/null
	fi
fi
aws --version >/dev/null 2>&1 || { echo "test-deps: aws CLI not usable" >&2; exit 1; }
