#!/usr/bin/env bash
# The documentation a newcomer reads stays true to the binary: the CLI reference
# is what the argument parser says now, the README stays a short front page whose
# links all lead somewhere, and the man page and completions install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

test_the_cli_reference_is_what_the_argument_parser_says() {
  "$REPO_ROOT/scripts/cli-reference" "$GANTRY" > cli.md
  diff -u "$REPO_ROOT/docs/cli.md" cli.md > cli.diff || fail "docs/cli.md is stale; run scripts/cli-reference .build/release/gantry > docs/cli.md: $(head -20 cli.diff)"
  # It names every subcommand the binary has.
  for command in build test push deploy resolve inspect login "model fetch" "model push" "store prune" init build-job sign verify "key generate" sbom; do
    grep -q "^#* gantry $command\$" cli.md || fail "no section for gantry $command"
  done
}

test_the_readme_is_a_front_page_whose_links_resolve() {
  local lines; lines=$(wc -l < "$REPO_ROOT/README.md")
  [ "$lines" -le 250 ] || fail "README.md has $lines lines (at most 250)"
  python3 - "$REPO_ROOT" <<'PY'
import os, re, sys
root = sys.argv[1]
bad = []
for directory, _, files in os.walk(root):
    if "/.build" in directory or "/.git" in directory:
        continue
    for name in files:
        if not name.endswith(".md"):
            continue
        path = os.path.join(directory, name)
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", open(path, encoding="utf-8").read()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(directory, target))):
                bad.append(f"{os.path.relpath(path, root)} -> {target}")
if bad:
    sys.exit("broken links:\n" + "\n".join(bad))
PY
}

test_the_man_page_and_completions_are_made_from_the_binary() {
  "$REPO_ROOT/scripts/man-page" "$GANTRY" > gantry.1
  head -1 gantry.1 | grep -q '^\.TH GANTRY 1' || fail "not a man page: $(head -1 gantry.1)"
  assert_contains "$(cat gantry.1)" "--stall-timeout"
  assert_contains "$(cat gantry.1)" ".SS gantry build"
  # Rendered by man where the machine has it (man-db), as a user would read it.
  if command -v man > /dev/null; then man -l gantry.1 > man.txt 2>/dev/null && assert_contains "$(cat man.txt)" "GANTRY(1)"; fi
  "$GANTRY" --generate-completion-script bash > completion.bash
  bash -n completion.bash || fail "the bash completion script does not parse"
  assert_contains "$(cat completion.bash)" "--push-tag"
}

run_tests
