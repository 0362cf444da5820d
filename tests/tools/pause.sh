#!/usr/bin/env bash
# Compiles the Kubernetes pause binary (build/pause/linux/pause.c from the k8s.io/kubernetes
# module zip) statically, once per Kubernetes version, and prints its absolute path. The
# binary is the single file of the forge-built pause image (recipes/lab/pause.toml).
# Env: K8S_VERSION (default 1.34.4, as kubernetes.sh), FORGE_TOOLS_CACHE.
set -euo pipefail

version=${K8S_VERSION:-1.34.4}
pause_tag=3.10.1   # build/pause/Makefile TAG of Kubernetes 1.34
cache=${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}
dest=$cache/pause-$pause_tag-k8s-v$version

if [[ -x $dest/pause ]]; then
  echo "$dest/pause"
  exit 0
fi
for tool in go gcc; do
  command -v $tool >/dev/null || { echo "pause.sh: $tool is missing; apt-get install golang gcc libc6-dev" >&2; exit 1; }
done
[[ -e /usr/lib/x86_64-linux-gnu/libc.a || -e /usr/lib/libc.a ]] \
  || { echo "pause.sh: static libc is missing; apt-get install libc6-dev" >&2; exit 1; }

src=$(cd /tmp && GOSUMDB=${GOSUMDB:-off} go mod download -json "k8s.io/kubernetes@v$version" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -f $src/build/pause/linux/pause.c ]] || { echo "pause.sh: no build/pause/linux/pause.c in k8s.io/kubernetes@v$version" >&2; exit 1; }

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
# The flags of build/pause/Makefile, plus -s: a stripped binary is byte-for-byte repeatable.
gcc -Os -Wall -Werror -static -s -DVERSION="v$pause_tag-forge" \
  -o "$dest.tmp/pause" "$src/build/pause/linux/pause.c"
"$dest.tmp/pause" -v >&2
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest/pause"
