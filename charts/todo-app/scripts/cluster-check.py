#!/usr/bin/env python3
"""Install the chart into a real (controller-less) Kubernetes API server and check what only a
server can tell: admission (Pod Security "restricted" enforced on every pod template),
server-side validation, the chart-managed namespace, Secrets generated once and read back on
upgrade and reinstall, the per-revision migration Job, and what `helm uninstall` leaves.

  cluster-check.py --helm HELM --server https://127.0.0.1:PORT --token TOKEN --chart DIR

KUBECONFIG must point at the same server. No kubelet runs, so pods are checked with
server-side dry runs and hooks that wait for pods are not run (prod installs with --no-hooks;
its hook Job is dry-run instead). Prints one line per check; exit 1 if any failed.
"""
import argparse
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import yaml

DEV_NS, PROD_NS = "chart-check-dev", "chart-check-prod"
failures = 0


def report(ok, name, detail=""):
    global failures
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")


class Api:
    def __init__(self, server, token):
        self.server, self.token = server, token
        # The throwaway API server's serving certificate is self-signed.
        self.tls = ssl.create_default_context()
        self.tls.check_hostname, self.tls.verify_mode = False, ssl.CERT_NONE

    def call(self, method, path, body=None):
        request = urllib.request.Request(
            self.server + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
                return response.status, response.headers.get_all("Warning") or [], json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_all("Warning") or [], json.load(error)

    def names(self, path):
        status, _, body = self.call("GET", path)
        return sorted(item["metadata"]["name"] for item in body.get("items", [])) if status == 200 else None


def helm(args, *extra):
    return subprocess.run([args.helm, *extra], capture_output=True, text=True, cwd=args.chart)


def render(args, release, namespace, *values):
    result = helm(args, "template", release, ".", "-n", namespace, *values)
    if result.returncode:
        sys.exit(f"helm template failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def pod_from(doc):
    """The pod a workload would create, as a Pod object for a server-side dry run."""
    if doc["kind"] == "Pod":
        pod = json.loads(json.dumps(doc))
    else:
        template = json.loads(json.dumps(doc["spec"]["template"]))
        spec = template["spec"]
        for claim in doc["spec"].get("volumeClaimTemplates", []):  # the StatefulSet adds these
            spec.setdefault("volumes", []).append({"name": claim["metadata"]["name"], "emptyDir": {}})
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": template.get("metadata", {}), "spec": spec}
    pod["metadata"] = {"name": doc["metadata"]["name"] + "-dry-run", "labels": pod["metadata"].get("labels", {})}
    return pod


def check_pods_admitted(api, docs, namespace, label, service_account=None):
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job", "Pod"):
            continue
        pod = pod_from(doc)
        if service_account:  # hook ServiceAccounts are not created by an install with --no-hooks
            pod["spec"]["serviceAccountName"] = service_account
        status, warnings, body = api.call("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", pod)
        report(status == 201 and not warnings,
               f"{label} {doc['kind']}/{doc['metadata']['name']} pod admitted under enforce=restricted",
               f"HTTP {status} {body.get('message', '')} {warnings}")


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--helm", "--server", "--token", "--chart"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    api = Api(args.server, args.token)
    dev_values = ["-f", "values-dev.yaml", "--set", f"namespace.create=true,namespace.name={DEV_NS}"]

    # dev: chart-managed namespace with Pod Security labels, generated secrets, in-cluster Postgres
    result = helm(args, "install", "todo-local", ".", "-n", "default", *dev_values)
    report(result.returncode == 0, "helm install (dev, chart-managed namespace)", result.stderr)
    _, _, namespace = api.call("GET", f"/api/v1/namespaces/{DEV_NS}")
    labels = namespace.get("metadata", {}).get("labels", {})
    report(labels.get("pod-security.kubernetes.io/enforce") == "restricted",
           "namespace enforces Pod Security restricted", str(labels))
    check_pods_admitted(api, render(args, "todo-local", DEV_NS, *dev_values), DEV_NS, "dev")
    secret_path = f"/api/v1/namespaces/{DEV_NS}/secrets/todo-local-todo-app"
    _, _, secret = api.call("GET", secret_path)
    generated = secret.get("data", {})
    report(sorted(generated) == ["BETTER_AUTH_SECRET", "DATABASE_URL", "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY", "POSTGRES_PASSWORD"],
           "generated Secret holds DATABASE_URL, BETTER_AUTH_SECRET, NEXT_SERVER_ACTIONS_ENCRYPTION_KEY, POSTGRES_PASSWORD",
           str(sorted(generated)))

    result = helm(args, "upgrade", "todo-local", ".", "-n", "default", *dev_values, "--set", "backend.logLevel=info")
    report(result.returncode == 0, "helm upgrade (dev)", result.stderr)
    _, _, secret = api.call("GET", secret_path)
    report(secret.get("data") == generated, "generated secrets survive the upgrade unchanged (lookup)")
    jobs = api.names(f"/apis/batch/v1/namespaces/{DEV_NS}/jobs")
    report(jobs == ["todo-local-todo-app-migrate-2"], "upgrade replaces the migration Job with revision 2's", str(jobs))

    result = helm(args, "uninstall", "todo-local", "-n", "default")
    report(result.returncode == 0, "helm uninstall (dev)", result.stderr)
    for path in ("apis/apps/v1/namespaces/{ns}/deployments", "apis/apps/v1/namespaces/{ns}/statefulsets",
                 "api/v1/namespaces/{ns}/services", "api/v1/namespaces/{ns}/configmaps",
                 "apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies", "apis/batch/v1/namespaces/{ns}/jobs"):
        # kube-root-ca.crt is published into every namespace by the controller-manager, not helm.
        left = [n for n in api.names("/" + path.format(ns=DEV_NS)) or [] if n != "kube-root-ca.crt"]
        report(left == [], f"uninstall removed {path.split('/')[-1]}", str(left))
    report(api.names(f"/api/v1/namespaces/{DEV_NS}/secrets") == ["todo-local-todo-app"],
           "uninstall keeps the Secret that unlocks the Postgres volume")
    result = helm(args, "install", "todo-local", ".", "-n", "default", *dev_values)
    _, _, secret = api.call("GET", secret_path)
    report(result.returncode == 0 and secret.get("data") == generated,
           "reinstall adopts the kept namespace and Secret and reuses the generated values", result.stderr)
    helm(args, "uninstall", "todo-local", "-n", "default")

    # prod: namespace and existingSecret made beforehand, external database, HPA/PDB/Ingress
    api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": PROD_NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    api.call("POST", f"/api/v1/namespaces/{PROD_NS}/secrets", {"apiVersion": "v1", "kind": "Secret",
             "metadata": {"name": "taskflow-secrets"}, "stringData": {
                 "DATABASE_URL": "postgresql://taskflow:pw@db.example.com:5432/taskflow",
                 "BETTER_AUTH_SECRET": "chart-check-better-auth-secret-0123456789",
                 "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}})
    result = helm(args, "install", "taskflow", ".", "-n", PROD_NS, "-f", "values-prod.yaml", "--no-hooks")
    report(result.returncode == 0, "helm install (prod, --no-hooks: no kubelet runs the hook Job)", result.stderr)
    prod = render(args, "taskflow", PROD_NS, "-f", "values-prod.yaml")
    for kind, path in (("HorizontalPodAutoscaler", "apis/autoscaling/v2"), ("PodDisruptionBudget", "apis/policy/v1"),
                       ("Ingress", "apis/networking.k8s.io/v1")):
        plural = {"HorizontalPodAutoscaler": "horizontalpodautoscalers", "PodDisruptionBudget": "poddisruptionbudgets",
                  "Ingress": "ingresses"}[kind]
        wanted = sorted(d["metadata"]["name"] for d in prod if d["kind"] == kind)
        found = api.names(f"/{path}/namespaces/{PROD_NS}/{plural}")
        report(bool(wanted) and found == wanted, f"prod {kind} objects accepted by the server", f"{found} != {wanted}")
    check_pods_admitted(api, [d for d in prod if d["kind"] != "Job"], PROD_NS, "prod")
    check_pods_admitted(api, [d for d in prod if d["kind"] == "Job"], PROD_NS, "prod hook",
                        service_account="taskflow-todo-app-backend")
    for doc in prod:
        if doc["kind"] == "Job":
            body = dict(doc, metadata={k: v for k, v in doc["metadata"].items() if k != "namespace"})
            status, _, answer = api.call("POST", f"/apis/batch/v1/namespaces/{PROD_NS}/jobs?dryRun=All", body)
            report(status == 201, "prod migration hook Job passes server-side validation",
                   f"HTTP {status} {answer.get('message', '')}")
    helm(args, "uninstall", "taskflow", "-n", PROD_NS)

    print(f"cluster-check: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
