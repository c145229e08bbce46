#!/usr/bin/env bash
# Re-downloads the vendored graph library from the npm registry with
# `npm pack`, copies the minified browser build and its licence here, and
# rewrites VENDOR.md with the version and sha256 checksums.
# Usage: web/vendor/refresh.sh [VERSION]   (default: the version in VENDOR.md)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-$(sed -n 's/^- version: //p' "$here/VENDOR.md" 2>/dev/null | head -n1)}"
version="${version:-3.34.4}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "cytoscape@$version" >/dev/null)
tarball="$(ls "$tmp"/cytoscape-*.tgz)"
tar -xzf "$tarball" -C "$tmp"
cp "$tmp/package/dist/cytoscape.min.js" "$here/cytoscape.min.js"
cp "$tmp/package/LICENSE" "$here/cytoscape.LICENSE"
sum() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$here/VENDOR.md" <<MD
# Vendored third-party files

Written by \`refresh.sh\`; do not edit by hand. Nothing else in \`web/\` is
third-party code, and the page loads nothing from outside the server.

## cytoscape (graph drawing)

- version: $version
- source: npm package \`cytoscape@$version\` (\`npm pack cytoscape@$version\`)
- licence: MIT, text in \`cytoscape.LICENSE\` (copied from the package)
- npm tarball sha256: $(sum "$tarball")
- file: \`cytoscape.min.js\` = \`package/dist/cytoscape.min.js\`
- cytoscape.min.js sha256: $(sum "$here/cytoscape.min.js")
- cytoscape.LICENSE sha256: $(sum "$here/cytoscape.LICENSE")

Check: \`sha256sum web/vendor/cytoscape.min.js\` must print the sum above.
No cytoscape extension is vendored: SVG export is our own code
(\`web/js/export.js\`), and no HTML-label extension is ever used.
MD
echo "cytoscape $version vendored into $here"
