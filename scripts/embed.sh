#!/bin/sh
# embed.sh IN OUT SYMBOL: a C file defining SYMBOL[] with IN's bytes (NUL
# terminated) and SYMBOL_len, so docs ship inside the binary.
set -eu
in=$1 out=$2 sym=$3
{
  printf '/* generated from %s by scripts/embed.sh */\n' "$(basename "$in")"
  printf 'const char %s[] = {\n' "$sym"
  od -An -v -tx1 "$in" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  printf '0x00 };\nconst unsigned long %s_len = sizeof %s - 1;\n' "$sym" "$sym"
} > "$out"
