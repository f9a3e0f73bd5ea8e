#!/usr/bin/env sh
# Regenerate diagrams/ from the live transition table.
set -eu
cd "$(dirname "$0")/.."
py=${PYTHON:-python}
"$py" -m resync_fsm diagram --format mermaid -o diagrams/lifecycle.mmd
"$py" -m resync_fsm diagram --format dot -o diagrams/lifecycle.dot
"$py" -m resync_fsm diagram --format svg -o diagrams/lifecycle.svg
# The status page inlines the SVG: ship the same file in the package.
cp diagrams/lifecycle.svg resync_fsm/lifecycle.svg
