#!/usr/bin/env python3
"""Check that secrets never leak into rendered manifests.

  check-secrets.py --values FILE... [--canary VALUE...] RENDER...

- The values files ship no secret value at all (secrets.* except existingSecret, and
  postgres.auth.password must be empty): a default secret would be rendered into every install.
- No rendered object other than a Secret carries a secret: canaries (secret values the test
  passed with --set) must not appear in plain text anywhere, and in base64 only in a Secret.
- Secret-named variables (DATABASE_URL, BETTER_AUTH_SECRET, NEXT_SERVER_ACTIONS_ENCRYPTION_KEY,
  OPENAI_API_KEY, POSTGRES_PASSWORD)
  are never ConfigMap keys and never literal container env values (only valueFrom).
"""
import argparse
import base64
import sys

import yaml

SECRET_VALUE_PATHS = ["secrets.betterAuthSecret", "secrets.openaiApiKey", "secrets.databaseUrl",
                      "postgres.auth.password"]
SECRET_ENV = {"DATABASE_URL", "BETTER_AUTH_SECRET", "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY", "OPENAI_API_KEY",
              "POSTGRES_PASSWORD"}


def lookup(values, path):
    for key in path.split("."):
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def containers(doc):
    spec = doc.get("spec") or {}
    pod = spec.get("template", {}).get("spec") if doc["kind"] != "Pod" else spec
    pod = pod or {}
    return (pod.get("containers") or []) + (pod.get("initContainers") or [])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", nargs="+", required=True)
    parser.add_argument("--canary", action="append", default=[])
    parser.add_argument("renders", nargs="+")
    args = parser.parse_args()
    problems = []

    for path in args.values:
        values = yaml.safe_load(open(path)) or {}
        for key in SECRET_VALUE_PATHS:
            if lookup(values, key):
                problems.append(f"{path}: {key} has a value; secrets must not ship in values files "
                                "(leave it empty to generate one, or use secrets.existingSecret)")

    checked = 0
    for render in args.renders:
        for doc in yaml.safe_load_all(open(render)):
            if not doc:
                continue
            checked += 1
            name = f"{render}: {doc['kind']}/{doc['metadata']['name']}"
            text = yaml.safe_dump(doc)
            for canary in args.canary:
                if canary in text:
                    problems.append(f"{name} contains the secret value {canary!r} in plain text")
                encoded = base64.b64encode(canary.encode()).decode()
                if doc["kind"] != "Secret" and encoded in text:
                    problems.append(f"{name} contains the secret value {canary!r} base64-encoded outside a Secret")
            if doc["kind"] == "Secret" and "stringData" in doc:
                problems.append(f"{name} uses stringData: secret values would be readable in the manifest")
            if doc["kind"] == "ConfigMap":
                for key in SECRET_ENV & set(doc.get("data") or {}):
                    problems.append(f"{name} has the secret key {key} in a ConfigMap")
            for container in containers(doc):
                for env in container.get("env") or []:
                    if env["name"] in SECRET_ENV and "value" in env:
                        problems.append(f"{name} container {container['name']} sets {env['name']} literally; use secretKeyRef")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print(f"secrets: {checked} rendered objects checked, {len(args.canary)} canaries, {len(problems)} leaks")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
