#!/usr/bin/env bash
# Installs what `make test` needs and is not part of Go modules: the S3
# clients the end-to-end tests drive (test/e2e): the aws CLI, boto3, rclone
# and s3cmd, and curl for presigned URLs and POST uploads. Idempotent and
# quiet when all is there; apt-get update runs only when something must be
# installed and the package lists do not have it.
set -euo pipefail

sudo=
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
	sudo=sudo
fi

# apt_install PKG...: installs Debian packages, updating the package lists
# first only if installing without an update fails.
apt_install() {
	echo "test-deps: installing $* (apt-get)" >&2
	export DEBIAN_FRONTEND=noninteractive
	if ! $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
		$sudo apt-get update -qq >/dev/null
		$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	fi
}

# The aws CLI: pip when there is one (a newer CLI), else the Debian package.
if ! command -v aws >/dev/null 2>&1; then
	echo "test-deps: installing the aws CLI" >&2
	if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
		$(command -v pip3 || command -v pip) install --quiet awscli || true
	fi
	if ! command -v aws >/dev/null 2>&1; then
		apt_install awscli
	fi
fi
aws --version >/dev/null 2>&1 || { echo "test-deps: aws CLI not usable" >&2; exit 1; }

# boto3 for python3 on the PATH or the system python3 (the test tries both).
has_boto3() {
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import boto3' >/dev/null 2>&1; then
			return 0
		fi
	done
	return 1
}
if ! has_boto3; then
	apt_install python3-boto3
	has_boto3 || { echo "test-deps: boto3 not importable" >&2; exit 1; }
fi

missing=()
for tool in rclone s3cmd curl; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "${missing[@]}"
fi
for tool in rclone s3cmd curl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "test-deps: $tool not usable" >&2; exit 1; }
done

# Chromium for the real-browser CORS test (test/e2e/cors_test.go).
command -v chromium >/dev/null 2>&1 || apt_install chromium

# test/deploy: ansible-core deploys a real cluster with deploy/ansible, ansible-lint
# checks the role and playbooks, xfsprogs for the XFS drive test (loop devices).
# Terraform comes with the machine image; test/deploy skips its CLI part without it.
missing=()
for pair in ansible-playbook:ansible-core ansible-lint:ansible-lint mkfs.xfs:xfsprogs; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "${missing[@]}"
fi
