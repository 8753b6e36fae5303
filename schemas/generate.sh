#!/usr/bin/env bash
# Regenerate the betterproto2 + grpclib code in inferia/orchestration/grpc_gen/ from
# the .proto files under schemas/. The generated code is committed; run this after
# changing a .proto file and commit both.
#
# Needs (dev only, not runtime deps): grpcio-tools and betterproto2-compiler whose
# x.y matches the installed betterproto2 library (0.10.x), and ruff on PATH (the
# betterproto2 plugin formats its output with it).
#
#   pip install grpcio-tools 'betterproto2-compiler>=0.10,<0.11'
#   bash schemas/generate.sh            # PYTHON=/path/to/python to choose the interpreter
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schemas="$root/schemas"
out="$root/inferia/orchestration/grpc_gen"
python="${PYTHON:-python}"
# The plugin (protoc-gen-python_betterproto2) and ruff live beside the interpreter.
PATH="$(dirname "$("$python" -c 'import sys; print(sys.executable)')"):$PATH"
export PATH

lib_xy="$("$python" -c 'import betterproto2; print(".".join(betterproto2.__version__.split(".")[:2]))')"
compiler_xy="$("$python" -c 'from importlib.metadata import version; print(".".join(version("betterproto2_compiler").split(".")[:2]))')"
if [[ "$lib_xy" != "$compiler_xy" ]]; then
    echo "betterproto2 $lib_xy and betterproto2-compiler $compiler_xy differ in x.y: install matching versions" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$schemas"
mapfile -t protos < <(find . -name '*.proto' -printf '%P\n' | sort)
"$python" -m grpc_tools.protoc -I "$schemas" \
    --python_betterproto2_out="$tmp" \
    --python_betterproto2_opt=client_generation=async,server_generation=async \
    "${protos[@]}"

# Replace everything generated, but keep the hand-written package docstring.
find "$out" -mindepth 1 -maxdepth 1 ! -name '__init__.py' -exec rm -rf {} +
rm -f "$tmp/__init__.py"
cp -r "$tmp"/. "$out"/
find "$out" -name '__pycache__' -prune -exec rm -rf {} +
echo "generated ${#protos[@]} file(s) into ${out#"$root"/}"
