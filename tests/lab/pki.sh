# Certificates, service-account keys and kubeconfigs of the lab, made with openssl once and
# kept in $LAB_DIR/pki (a warm `up` reuses them). Sourced by `up`.

# make_cert NAME CN ORG SANS USAGE: a key and a certificate signed by the lab CA.
# ORG may be empty; SANS is an openssl subjectAltName value or empty; USAGE is
# clientAuth, serverAuth or "serverAuth,clientAuth".
make_cert() {
  local name=$1 cn=$2 org=$3 sans=$4 usage=$5 subject ext
  [[ -s $PKI/$name.crt && -s $PKI/$name.key ]] && return 0
  subject="/CN=$cn"
  [[ -z $org ]] || subject="/O=$org$subject"
  ext=$PKI/$name.ext
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -z $sans ]] || echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key.tmp" -subj "$subject" \
    -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$PKI/$name.crt.tmp" 2>/dev/null
  chmod 600 "$PKI/$name.key.tmp"
  mv "$PKI/$name.key.tmp" "$PKI/$name.key"
  mv "$PKI/$name.crt.tmp" "$PKI/$name.crt"
  rm -f "$PKI/$name.csr" "$ext"
}

# make_kubeconfig NAME SERVER: $LAB_DIR/NAME.kubeconfig using the client cert pki/NAME.
make_kubeconfig() {
  local name=$1 file=$LAB_DIR/$1.kubeconfig
  [[ -s $file ]] && return 0
  cat >"$file.tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: forge-lab
  cluster:
    certificate-authority: $PKI/ca.crt
    server: https://$NODE_IP:$APISERVER_PORT
users:
- name: $name
  user:
    client-certificate: $PKI/$name.crt
    client-key: $PKI/$name.key
contexts:
- name: forge-lab
  context:
    cluster: forge-lab
    user: $name
current-context: forge-lab
KUBECONFIG
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [[ ! -s $PKI/ca.crt ]]; then
    log "generating the lab CA and certificates"
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -days 3650 -sha256 \
      -subj "/CN=forge-lab-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt.tmp" 2>/dev/null
    mv "$PKI/ca.crt.tmp" "$PKI/ca.crt"
  fi
  make_cert kube-apiserver kube-apiserver "" \
    "IP:$NODE_IP,IP:127.0.0.1,IP:$API_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    serverAuth
  # The API server's identity towards kubelets (logs, exec, port-forward).
  make_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "" clientAuth
  make_cert kubelet-serving "$NODE_NAME" "" "IP:$NODE_IP,DNS:$NODE_NAME" serverAuth
  make_cert admin forge-lab-admin system:masters "" clientAuth
  make_cert kube-controller-manager system:kube-controller-manager "" "" clientAuth
  make_cert kube-scheduler system:kube-scheduler "" "" clientAuth
  make_cert kubelet "system:node:$NODE_NAME" system:nodes "" clientAuth
  make_cert kube-proxy system:kube-proxy "" "" clientAuth
  make_cert kube-router system:kube-router "" "" clientAuth   # RBAC: addons/kube-router-rbac.yaml
  if [[ ! -s $PKI/service-account.key ]]; then
    openssl genrsa -out "$PKI/service-account.key.tmp" 2048 2>/dev/null
    openssl rsa -in "$PKI/service-account.key.tmp" -pubout -out "$PKI/service-account.pub" 2>/dev/null
    chmod 600 "$PKI/service-account.key.tmp"
    mv "$PKI/service-account.key.tmp" "$PKI/service-account.key"
  fi
  local name
  for name in admin kube-controller-manager kube-scheduler kubelet kube-proxy kube-router; do
    make_kubeconfig "$name"
  done
}
