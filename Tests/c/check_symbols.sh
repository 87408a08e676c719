#!/usr/bin/env bash
# Checks that libkiln.so exports exactly the kiln_* functions that include/kiln.h declares.
set -euo pipefail
library=${1:?usage: check_symbols.sh path/to/libkiln.so}
header=$(dirname "$0")/../../include/kiln.h
declared=$(grep -oE '\bkiln_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$library" | awk '$2 == "T" && $3 ~ /^kiln_/ { print $3 }' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "symbols: libkiln.so and include/kiln.h disagree:" >&2
    diff <(echo "$declared") <(echo "$exported") | sed 's/^</  only in kiln.h:/; s/^>/  only in libkiln.so:/' >&2
    echo "symbols: 0 passed, 1 failed"
    exit 1
fi
echo "symbols: $(echo "$declared" | wc -l) kiln_ functions match the header"
echo "symbols: 1 passed, 0 failed"
