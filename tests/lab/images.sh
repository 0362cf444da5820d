# The lab's own images, built by forge: pause (the pod sandbox) and CoreDNS. Their recipes
# (recipes/lab/*.toml) add binaries compiled by tests/tools/ on top of nothing; the binaries
# are copied to recipes/lab/bin/ (ignored by git) where the recipes expect them.
# Sourced by `up`; sets PAUSE_IMAGE, COREDNS_IMAGE, PAUSE_TAR, COREDNS_TAR.

# forge_binary: $FORGE if set, else the workspace's release build (cargo makes it current).
forge_binary() {
  if [[ -n ${FORGE:-} ]]; then
    [[ -x $FORGE ]] || die "FORGE=$FORGE is not an executable"
    echo "$FORGE"
    return
  fi
  command -v cargo >/dev/null \
    || die "cargo is missing: install Rust (https://rustup.rs) or set FORGE=/path/to/forge"
  log "building forge (cargo build --release -p forge)"
  (cd "$REPO_ROOT" && cargo build --quiet --release -p forge >&2) \
    || die "cargo build --release -p forge failed (output above)"
  echo "$REPO_ROOT/target/release/forge"
}

# stage_binary SOURCE NAME: copies SOURCE to recipes/lab/bin/NAME unless already identical,
# so an unchanged binary keeps its timestamp.
stage_binary() {
  local source=$1 dest=$REPO_ROOT/recipes/lab/bin/$2
  mkdir -p "${dest%/*}"
  cmp -s "$source" "$dest" 2>/dev/null && return 0
  cp "$source" "$dest.tmp"
  chmod 0755 "$dest.tmp"
  mv "$dest.tmp" "$dest"
}

# repo_tag TAR: the RepoTags entry forge wrote into a docker-archive.
repo_tag() {
  tar -xOf "$1" manifest.json | jq -er '.[0].RepoTags[0]' \
    || die "$1 has no RepoTags in manifest.json; rebuild it with forge build"
}

build_lab_images() {
  local forge
  stage_binary "$("$TOOLS/pause.sh")" pause
  stage_binary "$("$TOOLS/coredns.sh")" coredns
  forge=$(forge_binary)
  log "building the lab images with forge (pause, coredns)"
  (cd "$REPO_ROOT" && "$forge" build pause coredns >&2) \
    || die "forge build pause coredns failed (output above)"
  PAUSE_TAR=$REPO_ROOT/out/pause.tar
  COREDNS_TAR=$REPO_ROOT/out/coredns.tar
  PAUSE_IMAGE=$(repo_tag "$PAUSE_TAR")
  COREDNS_IMAGE=$(repo_tag "$COREDNS_TAR")
}
