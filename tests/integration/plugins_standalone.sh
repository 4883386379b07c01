#!/usr/bin/env bash
# Every plugin stands alone: no file of a plugin folder (plugins/<kind>/<name>/) includes a
# header of another plugin folder, and no plugin's CMakeLists.txt links a library defined in
# another plugin folder. What plugins share lives in plugins/<kind>/common/. The check runs on
# the source tree, then on two generated trees (one clean, one breaking each rule) to show
# that it passes and fails where it should.
# usage: plugins_standalone.sh <source dir>
set -uo pipefail
src="$1"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-standalone.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

check() {
  python3 - "$1" <<'PY'
import os, re, sys

plugins = os.path.realpath(sys.argv[1])
include = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
library = re.compile(r'add_library\(\s*([A-Za-z0-9_]+)')
folders = {}  # realpath -> "kind/name" for every plugin folder
for kind in sorted(os.listdir(plugins)):
    kind_dir = os.path.join(plugins, kind)
    if not os.path.isdir(kind_dir):
        continue
    for name in sorted(os.listdir(kind_dir)):
        path = os.path.join(kind_dir, name)
        if os.path.isdir(path) and name != "common":
            folders[os.path.realpath(path)] = f"{kind}/{name}"

def owner(path):
    """The plugin folder holding `path`, or None (common/, tests/, the SDK ...)."""
    path = os.path.realpath(path)
    for folder, label in folders.items():
        if path == folder or path.startswith(folder + os.sep):
            return label
    return None

# Library targets each plugin folder defines (its own plugin target is its name).
targets = {}
for folder, label in folders.items():
    targets[label.split("/")[1]] = label
    cmake = os.path.join(folder, "CMakeLists.txt")
    if os.path.exists(cmake):
        for t in library.findall(open(cmake).read()):
            targets[t] = label

failures = []
for folder, label in folders.items():
    kind_dir = os.path.dirname(folder)
    for root, _, files in os.walk(folder):
        for f in sorted(files):
            path = os.path.join(root, f)
            if f.endswith((".cpp", ".hpp", ".h", ".cc")):
                text = open(path, errors="replace").read()
                for m in include.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    for base in (root, kind_dir):  # "x.hpp" beside it, "common/x.hpp" via -I
                        candidate = os.path.join(base, m.group(1))
                        if os.path.exists(candidate):
                            other = owner(candidate)
                            if other is not None and other != label:
                                failures.append(f"{os.path.relpath(path, plugins)}:{line}: includes "
                                                f'"{m.group(1)}" of plugin {other}')
                            break
            elif f == "CMakeLists.txt":
                text = open(path).read()
                for m in re.finditer(r"target_link_libraries\(([^)]*)\)|LIBS([^)]*)\)", text):
                    words = re.findall(r"[A-Za-z0-9_]+", m.group(1) or m.group(2))
                    for w in words[1:] if m.group(1) else words:
                        if w in targets and targets[w] != label:
                            line = text.count("\n", 0, m.start()) + 1
                            failures.append(f"{os.path.relpath(path, plugins)}:{line}: links {w} "
                                            f"of plugin {targets[w]}")
for f in failures:
    print("FAIL " + f)
if failures:
    print("fix: move what the plugins share into plugins/<kind>/common/ and include or link it "
          "from there")
    sys.exit(1)
print(f"PASS {len(folders)} plugin folders include and link no other plugin's files")
PY
}

status=0
check "$src/plugins" || status=1

# A clean tree passes; a tree where one plugin reaches into another fails, for both rules.
mk() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" > "$1"; }
mk "$tmp/good/datasets/common/shared.hpp" '#pragma once'
mk "$tmp/good/datasets/a/a.hpp" '#include "common/shared.hpp"'
mk "$tmp/good/datasets/a/a.cpp" '#include "a.hpp"'
mk "$tmp/good/datasets/a/CMakeLists.txt" 'target_link_libraries(a PRIVATE tailor_shared)'
mk "$tmp/good/datasets/b/b.cpp" '#include "common/shared.hpp"'
cp -r "$tmp/good" "$tmp/bad_include"
mk "$tmp/bad_include/datasets/b/b.cpp" '#include "a/a.hpp"'
cp -r "$tmp/good" "$tmp/bad_link"
mk "$tmp/bad_link/datasets/a/CMakeLists.txt" 'add_library(a_engine STATIC a.cpp)'
mk "$tmp/bad_link/datasets/b/CMakeLists.txt" 'target_link_libraries(b PRIVATE a_engine)'
if ! check "$tmp/good" > "$tmp/good.log"; then
  echo "FAIL self-test: a clean tree was refused:"; cat "$tmp/good.log"; status=1
fi
for bad in bad_include bad_link; do
  if check "$tmp/$bad" > "$tmp/$bad.log"; then
    echo "FAIL self-test: $bad was not detected"; status=1
  else
    echo "PASS self-test: $bad detected ($(grep -m1 '^FAIL' "$tmp/$bad.log"))"
  fi
done
exit $status
