"""B5: the SAE forward pass at SAELens scale, against sae-lens's own classes (when
installed), a SAELens-style bare-torch implementation at identical weights, and the GEMM floor
measured in the same run.

Shape: batch B = 2048, d_in = 512, d_sae = 8192, k = 32, float32, random weights (unit
decoder atoms, small biases, JumpReLU threshold 0.05). For each activation (Standard = ReLU,
JumpReLU, TopK, AbsTopK):

- ours: ``SAE.reconstruct`` (x -> x_hat): for TopK/AbsTopK the encoder GEMM with the bias
  fused, the numba top-k selection, and a sparse decode (O(B k d_in)); for ReLU/JumpReLU the
  dense forward;
- sae-lens itself (issue 29), when installed (the ``sae-lens`` extra, about 69 packages with
  transformers and transformer-lens): its inference class (``StandardSAE``, ``JumpReLUSAE``,
  ``TopKSAE``, ``AbsTopKSAE``) made by ``SAE.to_sae_lens()`` at identical weights, timed on its
  ``forward``; "not installed" otherwise;
- the reference: SAELens's forward conventions re-implemented in bare torch:
  hidden_pre = (x - b_dec) @ W_enc + b_enc, the activation
  (``torch.topk`` + ReLU + scatter for TopK, the same on abs for AbsTopK, ReLU(pre) 1[pre >
  theta] for JumpReLU), then a dense decode ``acts @ W_dec + b_dec``;
- the floor: the encoder GEMM x @ W_enc alone (2 B d_in d_sae flops) into a preallocated
  output (``x @ W_enc``, which allocates its B x d_sae result, is reported too), and for the
  dense activations the encoder plus the decoder GEMM.

Reported: the median over ``repeats`` interleaved runs, each as a multiple of the floor; the
maximal absolute difference between our x_hat and the reference's and sae-lens's (float32
round-off); the
floor's GFLOP/s. Also one training step (loss, backward, Adam step) of the TopK SAE, ours
(RiemannianAdam on Oblique atoms) against the reference (torch Adam), and the forward of a
K-step unrolled TopK encoder (``SAE(depth=K)``). Threads pinned to 1.

Command: ``python benchmarks/b13_sae_forward.py [--quick]``. Runtime: about 1 min full,
5 s quick (a smaller shape). Output: ``results/b13_sae_forward/{results.json,table.md}``.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import torch

import tensorrec as tr
from tensorrec.runner import script_main, write_table
from tensorrec.sae import SAE

ACTIVATIONS = {"standard": "relu", "jumprelu": "jumprelu", "topk": "topk", "abstopk": "abstopk"}


@dataclasses.dataclass(frozen=True)
class Config:
    batch: int = 2048
    d_in: int = 512
    d_sae: int = 8192
    k: int = 32
    threshold: float = 0.05
    repeats: int = 7
    unroll: int = 4


QUICK = {"batch": 256, "d_in": 64, "d_sae": 1024, "k": 8, "repeats": 3}


class Reference(torch.nn.Module):
    """SAELens's forward conventions in bare torch (W_dec stored d_sae x d_in)."""

    def __init__(self, ours: SAE, architecture: str, k: int, threshold: float):
        super().__init__()
        self.architecture, self.k = architecture, k
        self.W_enc = torch.nn.Parameter(ours.encoder_weight().detach().clone())
        self.W_dec = torch.nn.Parameter(ours.W_dec.detach().mT.contiguous())
        self.b_enc = torch.nn.Parameter(ours.b_enc.detach().clone())
        self.b_dec = torch.nn.Parameter(ours.b_dec.detach().clone())
        self.threshold = torch.full_like(self.b_enc, threshold)

    def forward(self, x):
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc
        if self.architecture == "standard":
            acts = torch.relu(pre)
        elif self.architecture == "jumprelu":
            acts = torch.relu(pre) * (pre > self.threshold)
        elif self.architecture == "topk":
            top = torch.topk(pre, self.k, dim=-1)
            acts = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
        else:
            top = torch.topk(pre.abs(), self.k, dim=-1)
            acts = torch.zeros_like(pre).scatter(-1, top.indices, pre.gather(-1, top.indices))
        return acts @ self.W_dec + self.b_dec


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds of each callable, the callables alternating within every repetition."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def model(cfg: Config, activation: str, **kwargs) -> SAE:
    sae = SAE(cfg.d_in, cfg.d_sae, activation, k=cfg.k if "topk" in activation else None,
              threshold=cfg.threshold, rng=0, **kwargs)  # fmt: skip
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        sae.b_enc.normal_(0.0, 0.05, generator=g)
        sae.b_dec.normal_(0.0, 0.05, generator=g)
    return sae


def installed_sae_lens() -> str | None:
    """sae-lens's version, or None when it is not installed (the ``sae-lens`` extra)."""
    try:
        import sae_lens
    except ImportError:
        return None
    return sae_lens.__version__


def compute(cfg: Config, rng) -> dict:
    tr.pin_threads(1)
    sae_lens_version = installed_sae_lens()
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    x = torch.randn(cfg.batch, cfg.d_in, generator=g)
    W = torch.randn(cfg.d_in, cfg.d_sae, generator=g)
    V = torch.randn(cfg.d_sae, cfg.d_in, generator=g)
    dense = torch.relu(x @ W)
    out_enc, out_dec = torch.empty(cfg.batch, cfg.d_sae), torch.empty(cfg.batch, cfg.d_in)
    floors = interleaved({
        "encoder": lambda: torch.mm(x, W, out=out_enc), "decoder": lambda: torch.mm(dense, V, out=out_dec),
        "encoder_alloc": lambda: x @ W,
    }, cfg.repeats)  # fmt: skip
    flops = 2 * cfg.batch * cfg.d_in * cfg.d_sae
    rows = []
    for name, activation in ACTIVATIONS.items():
        ours = model(cfg, activation)
        ref = Reference(ours, name, cfg.k, cfg.threshold)
        with torch.no_grad():
            fns = {"ours": lambda ours=ours: ours.reconstruct(x), "ref": lambda ref=ref: ref(x)}
            if sae_lens_version is not None:
                theirs = ours.to_sae_lens()
                fns["sae_lens"] = lambda theirs=theirs: theirs(x)
            t = interleaved(fns, cfg.repeats)
            x_hat = fns["ours"]()
            diff = float((x_hat - fns["ref"]()).abs().max())
            diff_sl = float((x_hat - fns["sae_lens"]()).abs().max()) if "sae_lens" in fns else None
        floor = floors["encoder"] + (0 if "topk" in name else floors["decoder"])
        rows.append({
            "activation": name, "ours_s": t["ours"], "ref_s": t["ref"], "floor_s": floor,
            "ours_floor": t["ours"] / floor, "ref_floor": t["ref"] / floor, "max_diff": diff,
            "sae_lens_s": t.get("sae_lens"), "sae_lens_diff": diff_sl,
        })  # fmt: skip
    # one training step of the TopK SAE, ours against the reference with torch Adam
    import geoopt

    ours = model(cfg, "topk")
    ref = Reference(ours, "topk", cfg.k, cfg.threshold)
    opt_ours = geoopt.optim.RiemannianAdam(ours.parameters(), lr=1e-4)
    opt_ref = torch.optim.Adam(ref.parameters(), lr=1e-4)

    def step_ours():
        opt_ours.zero_grad()
        ours.loss(x).backward()
        opt_ours.step()

    def step_ref():
        opt_ref.zero_grad()
        (0.5 * ((ref(x) - x) ** 2).sum(-1).mean()).backward()
        opt_ref.step()

    train = interleaved({"ours": step_ours, "ref": step_ref}, max(cfg.repeats // 2, 2))
    unrolled = model(cfg, "topk", depth=cfg.unroll)
    with torch.no_grad():
        unroll = interleaved({"ours": lambda: unrolled(x), "one": lambda: ours(x)}, max(cfg.repeats // 2, 2))
    return {
        "config": dataclasses.asdict(cfg), "rows": rows, "floors": floors,
        "gflops": flops / floors["encoder"] / 1e9, "train": train, "unroll": unroll,
        "threads": tr.thread_settings(), "sae_lens": sae_lens_version,
    }  # fmt: skip


def table(results: dict) -> str:
    c = results["config"]
    lines = [
        f"B = {c['batch']}, d_in = {c['d_in']}, d_sae = {c['d_sae']}, k = {c['k']}, float32. Floor: the "
        f"encoder GEMM into a preallocated output, {results['floors']['encoder'] * 1e3:.1f} ms "
        f"({results['gflops']:.0f} GFLOP/s; {results['floors']['encoder_alloc'] * 1e3:.1f} ms as "
        f"`x @ W_enc`, which allocates its result); ReLU/JumpReLU add the decoder GEMM "
        f"({results['floors']['decoder'] * 1e3:.1f} ms).",
        "",
        f"| activation | ours (ms) | ours / floor | sae-lens {results.get('sae_lens') or 'not installed'} "
        "(ms) | "
        "sae-lens / floor | max abs diff to sae-lens | SAELens-style bare torch (ms) | reference / floor "
        "| max abs diff to reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        if r.get("sae_lens_s") is None:
            theirs = "- | - | -"
        else:
            t_sl = r["sae_lens_s"]
            theirs = f"{t_sl * 1e3:.1f} | {t_sl / r['floor_s']:.2f} | {r['sae_lens_diff']:.1e}"
        lines.append(
            f"| {r['activation']} | {r['ours_s'] * 1e3:.1f} | {r['ours_floor']:.2f} | {theirs} "
            f"| {r['ref_s'] * 1e3:.1f} | {r['ref_floor']:.2f} | {r['max_diff']:.1e} |"
        )
    t, u = results["train"], results["unroll"]
    lines += [
        "",
        f"Training step (TopK, loss + backward + Adam): ours {t['ours'] * 1e3:.0f} ms, reference "
        f"{t['ref'] * 1e3:.0f} ms. Forward of a {c['unroll']}-step unrolled TopK encoder: "
        f"{u['ours'] * 1e3:.0f} ms ({u['ours'] / u['one']:.2f}x one step's dense forward).",
        "",
        f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}.",
    ]
    return "\n".join(lines)


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b13_sae_forward", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
