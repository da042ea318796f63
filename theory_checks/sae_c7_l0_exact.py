"""SAE claim 7: L0 is exact for TopK and AbsTopK SAEs.

On held-out SparseMixture samples (bipolar, n = 64, d = 32, s = 3) through SAEs of width 128
with k in {1, 3, 8} (random Oblique atoms, and after ``steps`` training steps): AbsTopK has
exactly k nonzero latents on every sample with at least k nonzero pre-activations, TopK
exactly min(k, #positive pre-activations). Pass: zero violating samples. Deterministic
counts: no false-fail rate. (The bias-adaptation part of the claim, mean L0 = sum of target
frequencies, waits for the GBA trainer.)
Zero violating samples over 30 quick seeds and one full run (calibration/deterministic.py).

Command: ``tensorrec experiments run sae_c7_l0_exact [--quick]``. Runtime: about 3 s quick.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec.runner import script_main
from tensorrec.sae import SAE, SparseMixture, train


@dataclasses.dataclass(frozen=True)
class Config:
    ks: tuple[int, ...] = (1, 3, 8)
    steps: int = 200
    samples: int = 4000


QUICK = {"steps": 50, "samples": 1000}


def compute(cfg: Config, rng) -> dict:
    data = SparseMixture(64, 32, 3, held_out=cfg.samples, rng=rng)
    x = data.held_out_x.float()
    rows = []
    for k in cfg.ks:
        for activation in ("topk", "abstopk"):
            model = SAE(32, 128, activation, k=k, rng=rng)
            for trained in (False, True):
                if trained:
                    train(model, data, cfg.steps, batch=256, lr=3e-3, rng=rng)
                with torch.no_grad():
                    pre, z = model.pre_activation(x), model.encode(x)
                l0 = z.count_nonzero(dim=-1)
                if activation == "abstopk":
                    expected = torch.clamp((pre != 0).sum(-1), max=k)
                else:
                    expected = torch.clamp((pre > 0).sum(-1), max=k)
                violations = int((l0 != expected).sum())
                row = {"k": k, "activation": activation, "trained": trained, "violations": violations}
                rows.append({**row, "mean_l0": float(l0.double().mean())})
    return {"rows": rows}


def check(results: dict) -> list[str]:
    out = []
    for r in results["rows"]:
        if r["violations"]:
            state = "trained" if r["trained"] else "initial"
            out.append(f"{r['activation']} k = {r['k']} ({state}): L0 wrong on {r['violations']} samples")
    return out


def main(argv=None) -> int:
    return script_main("sae_c7_l0_exact", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
