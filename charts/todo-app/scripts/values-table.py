#!/usr/bin/env python3
"""Generate the values table of README.md from the `# --` comments in values.yaml.

Every value must be documented: a `# -- text` comment directly above its key (continued by
further `#` lines) documents that key and, for a mapping or list, everything below it. An
undocumented value is an error, which is how "values.yaml documented line by line" stays true.

  values-table.py           rewrite the table between the markers in README.md
  values-table.py --check   exit 1 if README.md is out of date (used by tests/suites/chart.sh)

Needs PyYAML (installed in the chart suite's venv with checkov).
"""
import json
import pathlib
import re
import sys

import yaml

CHART = pathlib.Path(__file__).resolve().parent.parent
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):(?P<rest>.*)$")


def documented_paths(lines):
    """(dotted path, description) for every key that has a `# --` comment, in file order."""
    docs, stack, pending = [], [], None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = stripped[4:].strip()
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending += " " + stripped.lstrip("#").strip()
            continue
        match = KEY.match(line)
        if not match:
            pending = None  # list items and blank lines end a comment block
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending is not None:
            docs.append((".".join(key for _, key in stack), pending, number))
        pending = None
    return docs


def leaves(value, prefix=""):
    """Dotted paths of every scalar, empty collection or list in the values tree."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from leaves(child, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


def lookup(values, path):
    for key in path.split("."):
        values = values[key]
    return values


def type_name(value):
    return {bool: "bool", int: "int", float: "number", str: "string", list: "list",
            dict: "object", type(None): "int or null"}[type(value)]


def table(values_file):
    text = values_file.read_text()
    values = yaml.safe_load(text)
    docs = documented_paths(text.splitlines())
    covered = [path for path, _, _ in docs]
    missing = [leaf for leaf in leaves(values)
               if not any(leaf == p or leaf.startswith(p + ".") for p in covered)]
    if missing:
        sys.exit(f"{values_file}: undocumented value(s): {', '.join(missing)}; "
                 "add a `# -- description` comment directly above each key")
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for path, description, _ in docs:
        default = lookup(values, path)
        shown = json.dumps(default, separators=(", ", ": ")).replace("|", "\\|")
        description = description.replace("|", "\\|")
        rows.append(f"| `{path}` | {type_name(default)} | `{shown}` | {description} |")
    return "\n".join(rows)


def main():
    readme = CHART / "README.md"
    current = readme.read_text()
    if START not in current or END not in current:
        sys.exit(f"{readme}: markers {START} / {END} are missing")
    head, rest = current.split(START, 1)
    _, tail = rest.split(END, 1)
    wanted = f"{head}{START}\n{table(CHART / 'values.yaml')}\n{END}{tail}"
    if "--check" in sys.argv[1:]:
        if wanted != current:
            sys.exit(f"{readme} is out of date with values.yaml: run "
                     f"charts/todo-app/scripts/values-table.py and commit the result")
        print(f"{readme.name}: values table is up to date")
        return
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(wanted)
    tmp.replace(readme)  # atomic: a crash never leaves a half-written README
    print(f"wrote {readme}")


if __name__ == "__main__":
    main()
