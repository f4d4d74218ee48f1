#!/bin/sh
# A preload library exports exactly the symbols of its version script:
# no C++ (_Z) symbol, nothing the script does not list, and everything it
# does (a name missing there would break interposition or the bootstrap).
# usage: exported_symbols_test.sh <library.so> <library.map>
set -eu
lib=$1 map=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The names between "global:" and "local:", comments dropped.
sed 's:/\*.*\*/::g; /\/\*/,/\*\//d' "$map" | tr ';{}' '\n\n\n' |
  awk '/global:/ {on = 1; sub(/.*global:/, "")} /local:/ {on = 0} on {for (i = 1; i <= NF; i++) print $i}' |
  sort -u > "$tmp/allowed"
nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u > "$tmp/exported"
[ -s "$tmp/allowed" ] || { echo "FAIL: no global symbols found in $map"; exit 1; }
status=0
if grep '^_Z' "$tmp/exported" > "$tmp/cxx"; then
  echo "FAIL: $(basename "$lib") exports $(wc -l < "$tmp/cxx") C++ symbols, e.g.:"; head -n 5 "$tmp/cxx"; status=1
fi
if comm -23 "$tmp/exported" "$tmp/allowed" | grep -v '^_Z' > "$tmp/extra"; then
  echo "FAIL: $(basename "$lib") exports symbols $map does not list:"; head -n 20 "$tmp/extra"; status=1
fi
if comm -13 "$tmp/exported" "$tmp/allowed" > "$tmp/missing" && [ -s "$tmp/missing" ]; then
  echo "FAIL: $(basename "$lib") does not export:"; cat "$tmp/missing"; status=1
fi
[ $status -eq 0 ] && echo "PASS: $(basename "$lib") exports exactly $(wc -l < "$tmp/allowed") symbols: $(tr '\n' ' ' < "$tmp/allowed")"
exit $status
