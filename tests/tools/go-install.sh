# Sourced by the tool scripts whose Go module installs cleanly with `go install pkg@version`
# (no replace directives). Defines go_install_tool; see its comment.

# go_install_tool NAME VERSION PACKAGE [LDFLAGS]
# Builds PACKAGE@vVERSION statically into ${FORGE_TOOLS_CACHE}/NAME-vVERSION/ once, and prints
# the absolute path of the binary (named after the package's last element). Logs to stderr.
go_install_tool() {
  local name=$1 version=$2 package=$3 ldflags=${4:-}
  local cache=${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}
  local dest=$cache/$name-v$version binary=${package##*/}

  if [[ -x $dest/$binary ]]; then
    echo "$dest/$binary"
    return 0
  fi
  command -v go >/dev/null || {
    echo "$name: go is not installed; install Go >= 1.24 (https://go.dev/dl) and retry" >&2
    return 1
  }
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  local start=$SECONDS
  echo "$name: building $package@v$version" >&2
  # The checksum database is not reachable from every machine this runs on; the proxy and
  # the module's go.sum are the source of truth. Static binaries so they also fit images
  # built on top of nothing.
  GOSUMDB=${GOSUMDB:-off} GOWORK=off CGO_ENABLED=0 GOBIN=$dest.tmp \
    nice -n 10 go install -trimpath -ldflags "-s -w $ldflags" "$package@v$version" >&2 || {
    echo "$name: go install $package@v$version failed (log above)" >&2
    rm -rf "$dest.tmp"
    return 1
  }
  echo "$name: built in $((SECONDS - start))s" >&2
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  echo "$dest/$binary"
}
