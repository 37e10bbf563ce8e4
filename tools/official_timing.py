"""Time the OFFICIAL PyTorch pruning code on one linear layer, on CPU, in this fresh process.

Measures what our `deno task prune-layer` does for one layer, but with the authors' code: from a safetensors
file holding `weight` (F32 [rows, cols]) and `inputs` (F32 [n, cols], calibration activations, one row per
token) it times ONLY the pruning work -- the statistics/Hessian accumulation from the inputs with the official
`add_batch` (one call per `--chunk` rows, i.e. one calibration sequence per call, as the official forward hooks
do with seqlen 2048) plus the official pruning call -- in float32 on CPU, torch's default thread count.
Prints one JSON line: work_seconds (that region), import_seconds (process start -> torch and the official
module imported), total_seconds (process start -> end of work), zeros_fraction of the pruned weight, and a
note naming the official function that ran.

The official code is NOT included here; check it out separately and pass its root as --repo:
  github.com/vectozavr/thanos     methods thanos, sparsegpt (lib/thanos.py, lib/sparsegpt.py; + structured)
  github.com/IST-DASLab/sparsegpt method  sparsegpt (sparsegpt.py)
  github.com/locuslab/wanda       methods wanda, magnitude, sparsegpt (lib/prune.py, lib/sparsegpt.py)

Run (with a Python whose torch imports, e.g. Debian's /usr/bin/python3):
  python3 tools/official_timing.py layer.safetensors --repo /path/to/thanos --method thanos --pattern 2:4

Unused official imports (transformers, matplotlib, sklearn, datasets) are replaced by empty modules when not
installed, and torch.cuda.synchronize / Tensor.cuda become no-ops without CUDA (CPU ops are synchronous);
the algorithms themselves run unchanged.
"""
import time

T0 = time.perf_counter()

import argparse
import contextlib
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

PATTERNS = {"unstructured": (0, 0), "2:4": (2, 4), "4:8": (4, 8), "structured": (0, 0)}
NM = {"unstructured", "2:4", "4:8"}
SUPPORTED = {  # (repository, method) -> patterns that repository implements for it
    ("thanos", "thanos"): NM | {"structured"},
    ("thanos", "sparsegpt"): NM | {"structured"},
    ("sparsegpt", "sparsegpt"): NM,
    ("wanda", "sparsegpt"): NM,
    ("wanda", "wanda"): NM,
    ("wanda", "magnitude"): NM,
}


def fail(message: str) -> None:
    print(f"official_timing: {message}", file=sys.stderr)
    sys.exit(2)


def repo_kind(repo: Path) -> str:
    if (repo / "lib" / "thanos.py").is_file():
        return "thanos"
    if (repo / "sparsegpt.py").is_file():
        return "sparsegpt"
    if (repo / "lib" / "layerwrapper.py").is_file() and (repo / "lib" / "prune.py").is_file():
        return "wanda"
    fail(f"{repo} is not a checkout of vectozavr/thanos, IST-DASLab/sparsegpt or locuslab/wanda")


def stub_unused_modules() -> None:
    """Empty stand-ins for modules the official files import but never use on the path timed here."""
    stubs = {"transformers": {"Conv1D": type("Conv1D", (), {})},  # only isinstance(layer, transformers.Conv1D)
             "matplotlib": {}, "matplotlib.pyplot": {},              # plotting helpers
             "sklearn": {}, "sklearn.cluster": {"KMeans": None},     # commented-out experiment
             "datasets": {"load_dataset": None}}                     # calibration download (replaced below)
    missing = {name for name in stubs if "." not in name and importlib.util.find_spec(name) is None}
    for name, attrs in stubs.items():
        if name.split(".")[0] in missing:
            sys.modules[name] = types.ModuleType(name)
            sys.modules[name].__dict__.update(attrs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("--repo", required=True, type=Path)
    p.add_argument("--method", required=True, choices=["thanos", "sparsegpt", "wanda", "magnitude"])
    p.add_argument("--pattern", required=True, choices=list(PATTERNS))
    p.add_argument("--sparsity", type=float, default=0.5)
    p.add_argument("--blocksize", type=int, default=128, help="column block (thanos main.py uses 512)")
    p.add_argument("--v-blocksize", type=int, default=256, help="thanos row block (main.py: 256)")
    p.add_argument("--percdamp", type=float, default=0.01)
    p.add_argument("--alpha", type=float, default=0.0, help="thanos perc_outliers (main.py: 0.0)")
    p.add_argument("--chunk", type=int, default=2048, help="input rows per add_batch call (one sequence)")
    p.add_argument("--save", help="also write the pruned weight here (safetensors, after timing)")
    a = p.parse_args()
    kind = repo_kind(a.repo.resolve())
    if a.pattern not in SUPPORTED.get((kind, a.method), set()):
        have = [repo for (repo, method), patterns in SUPPORTED.items() if method == a.method and a.pattern in patterns]
        fail(f"{a.method} {a.pattern} is not supported from a {kind} checkout (supported from: {', '.join(have) or 'none'})")
    if a.alpha != 0 and a.method != "thanos":
        fail("--alpha (perc_outliers) exists only for thanos")
    prune_n, prune_m = PATTERNS[a.pattern]
    structured = a.pattern == "structured"

    import torch
    import torch.nn as nn

    stub_unused_modules()
    if not torch.cuda.is_available():
        torch.cuda.synchronize = lambda *args, **kwargs: None  # called unconditionally after pruning
        torch.Tensor.cuda = lambda self, *args, **kwargs: self  # wanda prune_magnitude sorts on .cuda()
    sys.path.insert(0, str(a.repo.resolve()))
    if a.method == "thanos":
        from lib.thanos import Thanos as Pruner
    elif a.method == "sparsegpt" and kind == "sparsegpt":
        from sparsegpt import SparseGPT as Pruner
    elif a.method == "sparsegpt":
        from lib.sparsegpt import SparseGPT as Pruner
    else:
        import lib.prune as official_prune
    t_imported = time.perf_counter()

    spec = importlib.util.spec_from_file_location("safetensors_io", Path(__file__).parent / "fixtures" / "safetensors_io.py")
    st = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(st)
    tensors, _ = st.load(a.input)
    weight, inputs = tensors["weight"].float().contiguous(), tensors["inputs"].float().contiguous()
    (rows, cols), n = weight.shape, inputs.shape[0]
    chunk = min(a.chunk, n)
    if inputs.shape[1] != cols or n % chunk:
        fail(f"inputs {list(inputs.shape)} must have {cols} columns and a multiple of --chunk {chunk} rows")
    batches = inputs.reshape(n // chunk, chunk, cols)  # [sequences, seqlen, hidden], as the model hooks see it
    layer = nn.Linear(cols, rows, bias=False)
    layer.weight.data = weight.clone()

    if a.method in ("thanos", "sparsegpt"):
        pruner = Pruner(layer)
        if a.method == "thanos":
            prune = lambda: pruner.snap(a.sparsity, prune_n=prune_n, prune_m=prune_m, blocksize=a.blocksize,
                                        percdamp=a.percdamp, v_blocksize=a.v_blocksize, structured=structured,
                                        perc_outliers=a.alpha)
            note = f"lib/thanos.py Thanos.add_batch x{len(batches)} + Thanos.snap(structured={structured})"
        else:
            extra = {"structured": True} if structured else {}
            prune = lambda: pruner.fasterprune(a.sparsity, prune_n, prune_m, a.blocksize, a.percdamp, **extra)
            where = "sparsegpt.py" if kind == "sparsegpt" else f"{kind} lib/sparsegpt.py"
            note = f"{where} SparseGPT.add_batch x{len(batches)} + SparseGPT.fasterprune{' (structured)' if structured else ''}"

        def work():
            for batch in batches:
                pruner.add_batch(batch.unsqueeze(0), None)
            prune()
    else:
        # lib/prune.py's model-level prune_wanda / prune_magnitude, run as-is on a one-layer stand-in model.
        # The Linear's forward is the identity (type stays nn.Linear, so find_layers and the add_batch hook
        # still see it): the hook gets the layer input and the unused output matmul is skipped; recomputed
        # outputs are discarded. C4 loading / the embedding pass are replaced by handing over `batches`.
        layer.forward = lambda x: x

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = layer

            def forward(self, x, attention_mask=None, position_ids=None):
                return (self.proj(x),)

        class Discard:
            def __setitem__(self, key, value):
                pass

        model = types.SimpleNamespace(config=types.SimpleNamespace(use_cache=False), seqlen=chunk, hf_device_map={},
                                      model=types.SimpleNamespace(layers=[Block()]))
        args = types.SimpleNamespace(nsamples=len(batches), seed=0, sparsity_ratio=a.sparsity, use_variant=False)
        official_prune.get_loaders = lambda *args, **kwargs: (None, None)
        official_prune.prepare_calibration_input = lambda *args, **kwargs: (batches, Discard(), None, None)
        fn = official_prune.prune_wanda if a.method == "wanda" else official_prune.prune_magnitude
        note = (f"lib/prune.py {fn.__name__}(prune_n={prune_n}, prune_m={prune_m})" +
                (f" with WrappedGPT.add_batch x{len(batches)} via forward hook" if a.method == "wanda" else ""))
        work = lambda: fn(args, model, None, torch.device("cpu"), prune_n=prune_n, prune_m=prune_m)

    with torch.no_grad(), contextlib.redirect_stdout(sys.stderr):  # the official code prints progress
        t_start = time.perf_counter()
        work()
        t_end = time.perf_counter()

    if a.save:
        st.save(a.save, {"weight": layer.weight.data.contiguous()})
    commit = subprocess.run(["git", "-C", str(a.repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(json.dumps({
        "method": a.method, "pattern": a.pattern, "sparsity": a.sparsity, "rows": rows, "cols": cols, "n": n,
        "work_seconds": round(t_end - t_start, 6), "import_seconds": round(t_imported - T0, 6),
        "total_seconds": round(t_end - T0, 6), "torch_threads": torch.get_num_threads(),
        "repo_commit": commit or None, "note": note, "add_batch_rows": chunk,
        "blocksize": a.blocksize, "percdamp": a.percdamp, "alpha": a.alpha, "torch": torch.__version__,
        "zeros_fraction": round((layer.weight.data == 0).float().mean().item(), 6),
    }))


if __name__ == "__main__":
    main()
