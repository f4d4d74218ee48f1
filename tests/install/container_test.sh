#!/usr/bin/env bash
# The Dockerfile, checked without a Docker engine (none runs here): its
# final stage installs Debian packages that provide every shared library
# fiberleakd loads, and the `daemon` install component it copies holds
# fiberleakd and the example configs only (no headers, no static
# libraries). The HEALTHCHECK's command exists.
# Usage: container_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build_dir=$1
source_dir=$2
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)
dockerfile=$source_dir/Dockerfile
bin=$build_dir/daemon/fiberleakd

# The final stage's packages: the apt-get install after the last FROM.
final=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END {printf "%s", stage}' "$dockerfile")
packages=$(printf '%s' "$final" | tr '\\' ' ' | tr -s ' \n' ' ' |
  sed -n 's/.*apt-get install -y -qq --no-install-recommends \(.*\)&& rm -rf.*/\1/p')
check "the final stage installs packages" '[[ -n $packages ]]'
for p in $packages; do
  check "the final stage's package $p exists in Debian" 'apt-cache show "$p" >/dev/null 2>&1'
done

# Every library fiberleakd loads comes from one of them or their
# dependencies, or from the base image (debian:bookworm-slim has libc6,
# libgcc-s1 and libstdc++6).
closure=$( (echo libc6 libgcc-s1 libstdc++6 $packages | tr ' ' '\n'
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
    $packages 2>/dev/null | sed -n 's/^ *\(Pre\)\?Depends: //p; /^[a-z0-9]/p') | sed 's/:any$//' | sort -u)
for lib in $(ldd "$bin" | awk '$3 ~ /^\// {print $3}'); do
  owner=""
  for path in "$lib" "/usr$lib" "${lib#/usr}"; do
    owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
    [[ -n $owner ]] && break
  done
  check "$(basename "$lib") (from ${owner:-?}) is in the final image" '[[ -n $owner ]] && grep -qx "$owner" <<<"$closure"'
done

# What the final stage copies: the daemon component.
cmake --install "$build_dir" --prefix "$work/daemon" --component daemon >"$work/install.log" 2>&1
check "the daemon component holds fiberleakd and the configs only" \
  '[[ "$(cd "$work/daemon" && find . -type f | sort | tr "\n" " ")" == "./bin/fiberleakd ./share/fiberleak/fiberleakd.example.json ./share/fiberleak/fiberleakd.sidecar.json " ]]'
check "the Dockerfile copies the configs it names" \
  'grep -q "COPY config/fiberleakd.example.json config/fiberleakd.sidecar.json /etc/fiberleak/" "$dockerfile" && [[ -f $source_dir/config/fiberleakd.sidecar.json ]]'
check "the image runs as a user of its own" 'printf "%s" "$final" | grep -q "^USER fiberleak"'
check "the HEALTHCHECK's command is one fiberleakd has" \
  'printf "%s" "$final" | grep -q "HEALTHCHECK .*\"fiberleakd\", \"healthcheck\"" && "$bin" --help | grep -q "^  healthcheck"'
check ".dockerignore keeps build trees and .git out of the context" \
  'grep -qx ".git" "$source_dir/.dockerignore" && grep -qx "build" "$source_dir/.dockerignore"'
finish "$work"/*.log
