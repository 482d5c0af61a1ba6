#!/usr/bin/env bash
# Builds the documentation of NablaNN (API reference and the articles in Documentation.docc), Nabla
# and NablaData (API reference) with the
# toolchain's docc, failing on any warning (a broken symbol link, an undocumented parameter of a
# documented function). Output: .build/docs/*.doccarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
listing=$(swift package dump-symbol-graph --minimum-access-level public 2>&1)
dir=$(echo "$listing" | sed -n 's/^Files written to //p')
graphs=.build/docs/symbol-graphs
rm -rf "$graphs" && mkdir -p "$graphs"
cp "$dir"/NablaNN.symbols.json "$dir"/NablaNN@*.symbols.json "$graphs"/ 2>/dev/null || cp "$dir"/NablaNN.symbols.json "$graphs"/
docc=$(command -v docc || xcrun --find docc)
"$docc" convert Sources/NablaNN/Documentation.docc --additional-symbol-graph-dir "$graphs" \
    --output-path .build/docs/NablaNN.doccarchive --fallback-display-name NablaNN --fallback-bundle-identifier nabla.NablaNN \
    --warnings-as-errors
# The core and data modules have no articles; their API reference is checked the same way.
for module in Nabla NablaData; do
    rm -rf "$graphs" && mkdir -p "$graphs" .build/docs/$module.docc
    cp "$dir"/$module.symbols.json "$graphs"/
    cp "$dir"/$module@*.symbols.json "$graphs"/ 2>/dev/null || true
    "$docc" convert .build/docs/$module.docc --additional-symbol-graph-dir "$graphs" --output-path .build/docs/$module.doccarchive \
        --fallback-display-name $module --fallback-bundle-identifier nabla.$module --warnings-as-errors
done
echo "documentation: .build/docs/{NablaNN,Nabla,NablaData}.doccarchive"
