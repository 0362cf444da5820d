#!/usr/bin/env bash
# The lab cluster itself: pods run on the forge-built pause sandbox, CoreDNS (forge-built)
# resolves Services, a NodePort answers on loopback and on the node address, a claim binds
# through the default hostPath StorageClass and keeps data across pods, and a NetworkPolicy
# really blocks traffic from another namespace.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

a=e2e-lab-a b=e2e-lab-b
cleanup_namespaces() { kc delete namespace "$a" "$b" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup_namespaces EXIT
kc create namespace "$a" >/dev/null
kc create namespace "$b" >/dev/null
wait_until 30 "default service account in $a" kc -n "$a" get serviceaccount default
wait_until 30 "default service account in $b" kc -n "$b" get serviceaccount default

step "forge-built pause is the pod sandbox, forge-built CoreDNS serves cluster DNS"
sandboxes=$(ctr --address "$FORGE_LAB_DIR/containerd/containerd.sock" -n k8s.io containers ls)
grep -q "forge.local/pause:" <<<"$sandboxes" || fail "no pod sandbox runs the forge.local/pause image:
$sandboxes"
coredns_image=$(kc -n kube-system get deployment coredns -o jsonpath='{.spec.template.spec.containers[0].image}')
[[ $coredns_image == forge.local/coredns:* ]] || fail "CoreDNS runs $coredns_image, not the forge image"
out=$(run_probe "$b" dns lookup kubernetes.default.svc.cluster.local) \
  || fail "kubernetes.default.svc.cluster.local did not resolve: $out"
grep -qx 10.96.0.1 <<<"$out" || fail "kubernetes.default resolved to '$out', not 10.96.0.1"

step "a Deployment behind a NodePort Service answers on 127.0.0.1 and the node address"
kc -n "$a" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: $PROBE_IMAGE
        imagePullPolicy: Never
        args: [serve, ":8080"]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 8080, targetPort: 8080}]
YAML
kc -n "$a" rollout status deployment/web --timeout=90s >&2
node_port=$(kc -n "$a" get service web -o jsonpath='{.spec.ports[0].nodePort}')
node_ip=$(kc get node -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
for host in 127.0.0.1 "$node_ip"; do
  # kube-proxy writes the rules within a second or two of the endpoints becoming ready.
  wait_until 20 "NodePort $host:$node_port answering" curl -fsS --max-time 2 "http://$host:$node_port/"
  body=$(curl -fsS --max-time 5 "http://$host:$node_port/")
  [[ $body == "probe web-"* ]] || fail "NodePort $host:$node_port answered '$body'"
done
note "NodePort $node_port answers on 127.0.0.1 and $node_ip"

step "Service DNS name reachable from another namespace before any policy"
run_probe "$b" before-policy get "http://web.$a.svc.cluster.local:8080/" 20 >/dev/null \
  || fail "web.$a could not be reached from $b without any NetworkPolicy"

step "NetworkPolicy: only pods of $a may reach web"
kc -n "$a" apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-same-namespace-only}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {}}]
YAML
sleep 3   # kube-router applies policies on its informer events, within a second or two
if out=$(run_probe "$b" blocked get "http://web.$a.svc.cluster.local:8080/" 6); then
  fail "a pod in $b still reached web in $a through the NetworkPolicy: $out"
fi
run_probe "$a" allowed get "http://web.$a.svc.cluster.local:8080/" 20 >/dev/null \
  || fail "a pod in $a could not reach web in $a although the policy allows it"
note "blocked from $b, allowed from $a"

step "NetworkPolicy egress: DNS (port 53, to kube-dns) only"
kc -n "$a" apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-only}
spec:
  podSelector: {matchLabels: {role: dns-only}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
YAML
sleep 3
PROBE_LABELS=role=dns-only run_probe "$a" dns-only-lookup lookup "web.$a.svc.cluster.local" >/dev/null \
  || fail "DNS failed for a pod whose egress policy allows DNS"
if out=$(PROBE_LABELS=role=dns-only run_probe "$a" dns-only-get get "http://web.$a.svc.cluster.local:8080/" 6); then
  fail "a pod whose egress policy allows only DNS reached web: $out"
fi
note "DNS allowed, HTTP blocked by the egress policy"

step "PersistentVolumeClaim binds through the default StorageClass and keeps data"
kc -n "$a" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
YAML
wait_until 60 "claim $a/data Bound" \
  bash -c "[[ \$('$KUBECTL' -n $a get pvc data -o jsonpath='{.status.phase}') == Bound ]]"
volume_pod() {
  local name=$1
  shift
  kc -n "$a" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  restartPolicy: Never
  securityContext: {fsGroup: 65532}
  containers:
  - name: probe
    image: $PROBE_IMAGE
    imagePullPolicy: Never
    args: [$(printf '"%s",' "$@" | sed 's/,$//')]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
YAML
  wait_until 90 "pod $a/$name finished" \
    bash -c "[[ \$('$KUBECTL' -n $a get pod $name -o jsonpath='{.status.phase}') == Succeeded ]]"
}
volume_pod writer write /data/hello forge-lab
volume_pod reader cat /data/hello
[[ $(kc -n "$a" logs reader) == forge-lab ]] || fail "the reader pod did not see the writer's data"
note "claim bound to $(kc -n "$a" get pvc data -o jsonpath='{.spec.volumeName}'), data kept across pods"
