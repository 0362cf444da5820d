#!/usr/bin/env python3
"""Gate checkov's JSON report against policies/checkov.yaml.

  checkov-gate.py POLICY REPORT.json

Fails (exit 1) on a failed check that no suppression covers, on a suppression without a
reason, and on a suppression that matched nothing (stale entries hide future regressions).
"""
import json
import re
import sys

import yaml


def load_suppressions(path):
    entries = (yaml.safe_load(open(path)) or {}).get("suppressions") or []
    problems = []
    for number, entry in enumerate(entries, 1):
        for key in ("check", "resources", "reason"):
            if not str(entry.get(key) or "").strip():
                problems.append(f"{path}: suppression #{number} has no `{key}`; every entry needs check, resources and reason")
        entry["pattern"] = re.compile(entry.get("resources") or "^$")
    return entries, problems


def main(policy, report):
    suppressions, problems = load_suppressions(policy)
    data = json.load(open(report))
    results = data if isinstance(data, list) else [data]
    used = set()
    passed = failed = suppressed = 0
    for result in results:
        if "results" not in result:  # checkov writes a bare summary when nothing was scanned
            problems.append(f"{report}: checkov scanned no Kubernetes resources")
            continue
        passed += result["summary"]["passed"]
        for finding in result["results"]["failed_checks"]:
            failed += 1
            match = next((i for i, s in enumerate(suppressions)
                          if s["check"] == finding["check_id"] and s["pattern"].search(finding["resource"])), None)
            if match is None:
                problems.append(f"{finding['check_id']} {finding['check_name']!r} failed for "
                                f"{finding['resource']} ({finding['file_path']}): fix the chart, or add a "
                                f"scoped suppression with a reason to {policy}")
            else:
                used.add(match)
                suppressed += 1
    for index, entry in enumerate(suppressions):
        if index not in used:
            problems.append(f"{policy}: suppression {entry['check']} for /{entry['resources']}/ matched "
                            "nothing; remove it")
    print(f"checkov: {passed} passed, {failed} failed, {suppressed} of them suppressed")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
