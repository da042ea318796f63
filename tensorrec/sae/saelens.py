"""SAELens interop: our :class:`~tensorrec.sae.SAE` to and from sae-lens 6.x SAEs, in memory
and in sae-lens's on-disk layout (``cfg.json`` + ``sae_weights.safetensors``).

sae-lens is imported only here, inside the functions (install it with the extra:
``pip install 'pytensorrec[sae-lens]'``). The architectures map one to one:

==================  ==========================================  =======================
ours                sae-lens (inference class)                  extra parameter
==================  ==========================================  =======================
``"relu"``          ``"standard"`` (:class:`StandardSAE`)
``"jumprelu"``      ``"jumprelu"`` (:class:`JumpReLUSAE`)       ``threshold`` (d_sae)
``"topk"``          ``"topk"`` (:class:`TopKSAE`)               ``k``
``"abstopk"``       ``"abstopk"`` (:class:`AbsTopKSAE`)         ``k``
==================  ==========================================  =======================

Conventions (checked in ``tests/test_sae_lens.py`` to float32 rounding):

- **Layout.** Both compute the pre-activations as (x - b_dec) @ W_enc + b_enc with W_enc of
  shape (d_in, d_sae), the same array in both. The decoder is transposed: our atoms are the
  *columns* of ``W_dec`` (d_in, d_sae); sae-lens's are the *rows* of its ``W_dec``
  (d_sae, d_in), x_hat = acts @ W_dec + b_dec.
- **Decoder norms.** Our atoms have unit norm (the Oblique manifold); sae-lens's need not.
  :func:`from_sae_lens` keeps rows of norm 1 (within 64 machine epsilons of the model's
  dtype) as they are, and otherwise stores the unit directions as atoms and the norms n_j as
  output scales (``output_scale=True``: parameters initialised to n, free like sae-lens's row
  norms; x_hat = D (n * z) + b_dec): the codes stay sae-lens's codes, the
  reconstruction is the same, and the recovery metrics see the directions. A zero decoder row
  (an atom with no direction) is refused. :func:`to_sae_lens` multiplies the scales back into
  the rows. (sae-lens's own ``fold_W_dec_norm()`` is the other choice: it moves the norms into
  the encoder and so changes the codes.)
- **b_dec at the input.** Ours always subtracts b_dec before encoding (sae-lens's default
  ``apply_b_dec_to_input=True``). A model with ``apply_b_dec_to_input=False`` is folded
  exactly: b_enc' = b_enc + b_dec @ W_enc (computed in float64).
- **TopK with ``rescale_acts_by_decoder_norm``** (the pre-activations are multiplied by the
  decoder row norms n before the selection, the codes divided by them before decoding) is
  folded into W_enc' = W_enc n, b_enc' = b_enc n and unit atoms W_dec / n: the same codes
  and reconstruction.
- **JumpReLU.** sae-lens computes ReLU(u) 1[u > theta], ours u 1[u > theta] with theta =
  exp(log_threshold) > 0: equal for theta >= 0; a negative threshold acts as 0 in sae-lens
  (the ReLU) and becomes 0 here (log_threshold = -inf).
- **Not mapped** (refused by name): input normalisations other than ``"none"`` and
  ``"expected_average_only_in"`` (whose factor sae-lens applies outside the SAE, so the
  forward pass is the same), ``reshape_activations="hook_z"``, other architectures (gated,
  transcoders, BatchTopK training SAEs: save their inference model first, ...), and on our
  side encoders of ``depth > 1``. Tied models convert with W_enc = D (sae-lens has no tying).
  The training options (l1, l0, bandwidth, AuxK, ``steps_since_fired``) are not carried:
  :func:`to_sae_lens` returns an inference SAE.
- **dtype and device** follow the model: float32 and float64 (ours supports nothing else;
  :func:`from_sae_lens` casts a bfloat16/float16 model only when ``dtype=`` asks for it).
"""

from __future__ import annotations

import torch

from tensorrec._backend import describe
from tensorrec.sae.model import SAE

ARCHITECTURES = {"relu": "standard", "jumprelu": "jumprelu", "topk": "topk", "abstopk": "abstopk"}
"""Our activation -> the sae-lens architecture name."""

_OURS = {v: k for k, v in ARCHITECTURES.items()}
_NORMALIZATIONS = ("none", "expected_average_only_in")
_FIXED = ("activation", "k", "tied", "depth", "output_scale", "dtype", "threshold")


def _require_sae_lens():
    try:
        import sae_lens
    except ImportError as exc:
        raise ImportError(
            "tensorrec.sae.saelens needs sae-lens (6.x); install the 'sae-lens' extra: "
            "pip install 'pytensorrec[sae-lens]'"
        ) from exc
    return sae_lens


def _sae_lens_classes(architecture: str):
    """(SAE class, config class) of sae-lens for ``architecture``, refused by name when this
    sae-lens lacks it (AbsTopK came late in 6.x)."""
    sae_lens = _require_sae_lens()
    from sae_lens.registry import get_sae_class

    try:
        return get_sae_class(architecture)
    except KeyError:
        raise ValueError(
            f"activation: sae-lens {sae_lens.__version__} has no {architecture!r} SAE; upgrade sae-lens"
        ) from None


def _weight(p: torch.Tensor) -> torch.Tensor:
    """A plain tensor copy of a parameter (geoopt's ManifoldParameter included)."""
    return p.detach().as_subclass(torch.Tensor).clone()


def to_sae_lens(model: SAE):
    """The sae-lens inference SAE with our weights, on the model's device and dtype.

    Parameters
    ----------
    model : SAE
        A one-step encoder (``depth = 1``) of any activation.

    Returns
    -------
    sae_lens.StandardSAE, JumpReLUSAE, TopKSAE or AbsTopKSAE
        ``encode`` gives our codes and ``forward`` our reconstruction (to rounding): W_enc as
        it is, W_dec transposed (atoms as rows, times the output scales if any), b_enc and
        b_dec, ``threshold = exp(log_threshold)`` for JumpReLU, ``k`` for TopK/AbsTopK,
        ``apply_b_dec_to_input=True``.
    """
    if not isinstance(model, SAE):
        raise TypeError(f"model: expected a tensorrec SAE, got {describe(model)}")
    if model.depth != 1:
        raise ValueError(
            f"model: sae-lens SAEs encode in one step, got depth = {model.depth} (an unrolled encoder)"
        )
    architecture = ARCHITECTURES[model.activation]
    sae_cls, cfg_cls = _sae_lens_classes(architecture)
    from sae_lens.util import dtype_to_str

    dtype, device = model.b_dec.dtype, model.b_dec.device
    extra = {"k": model.k} if model.activation in ("topk", "abstopk") else {}
    cfg = cfg_cls(d_in=model.d_in, d_sae=model.d_sae, dtype=dtype_to_str(dtype), device="meta",
                  apply_b_dec_to_input=True, **extra)  # fmt: skip
    with torch.no_grad():
        D = _weight(model.W_dec)
        if model.scale is not None:
            D = D * model.scale.detach()
        state = {
            "W_enc": _weight(model.encoder_weight()).contiguous(),
            "W_dec": D.mT.contiguous(),
            "b_enc": _weight(model.b_enc),
            "b_dec": _weight(model.b_dec),
        }
        if model.activation == "jumprelu":
            state["threshold"] = torch.exp(_weight(model.log_threshold))
    sae = sae_cls(cfg)  # on the meta device (what sae-lens's own loader does): no initialisation cost
    sae.cfg.device = str(device)
    sae.load_state_dict(state, assign=True)
    return sae.to(dtype=dtype, device=device)


def from_sae_lens(sae, *, dtype: torch.dtype | None = None, **options) -> SAE:
    """Our :class:`~tensorrec.sae.SAE` with the weights of a sae-lens SAE, on its device.

    Parameters
    ----------
    sae : sae_lens.SAE
        A standard, JumpReLU, TopK or AbsTopK SAE (inference or training class) of sae-lens 6.x.
    dtype : torch.float32 or torch.float64, optional
        The model's dtype; default: the sae-lens SAE's (which must then be one of these two).
    **options
        Passed to :class:`~tensorrec.sae.SAE` (``decoder``, ``l1``, ``l0``, ``bandwidth``,
        ``auxk``, ...): what the conversion does not fix.

    Returns
    -------
    SAE
        ``encode`` gives sae-lens's codes and ``forward`` its reconstruction (to rounding);
        the conventions folded on the way are in the module's docstring.
    """
    sae_lens = _require_sae_lens()
    if not isinstance(sae, sae_lens.SAE):
        raise TypeError(f"sae: expected a sae-lens SAE (sae_lens.SAE), got {describe(sae)}")
    fixed = sorted(set(options) & set(_FIXED))
    if fixed:
        raise TypeError(f"{', '.join(fixed)}: set by the sae-lens SAE's configuration, not by options")
    cfg = sae.cfg
    architecture = cfg.architecture()
    if architecture not in _OURS:
        raise ValueError(
            f"sae: expected one of the architectures {sorted(_OURS)}, got {architecture!r} "
            f"({type(sae).__name__})"
        )
    if cfg.normalize_activations not in _NORMALIZATIONS:
        raise ValueError(
            f"sae: expected normalize_activations in {_NORMALIZATIONS} (our SAE has no input "
            f"normalisation), got {cfg.normalize_activations!r}"
        )
    if cfg.reshape_activations != "none":
        raise ValueError(
            f"sae: expected reshape_activations='none', got {cfg.reshape_activations!r} (flatten the "
            "heads first)"
        )
    names = ("W_enc", "W_dec", "b_enc", "b_dec")
    W_enc, W_dec, b_enc, b_dec = (getattr(sae, name).detach() for name in names)
    if dtype is None:
        dtype = W_dec.dtype
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(
                f"dtype: the sae-lens SAE is {dtype}; ours is torch.float32 or torch.float64: pass "
                f"dtype= to cast"
            )
    elif dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype: expected torch.float32 or torch.float64, got {dtype!r}")
    d_sae, d_in = W_dec.shape
    if tuple(W_enc.shape) != (d_in, d_sae):
        raise ValueError(
            f"sae: expected W_enc of shape {(d_in, d_sae)} (d_in, d_sae), got {tuple(W_enc.shape)}"
        )
    # every fold in float64, one rounding to the model's dtype at the end
    W_enc, W_dec, b_enc, b_dec = (t.double() for t in (W_enc, W_dec, b_enc, b_dec))
    if not cfg.apply_b_dec_to_input:
        b_enc = b_enc + b_dec @ W_enc  # (x - b_dec) @ W_enc + b_enc' = x @ W_enc + b_enc
    norms = torch.linalg.vector_norm(W_dec, dim=1)
    if bool((norms == 0).any()):
        row = int(torch.nonzero(norms == 0)[0, 0])
        raise ValueError(f"sae: expected nonzero decoder rows (atoms), W_dec row {row} is zero")
    rescale = bool(getattr(cfg, "rescale_acts_by_decoder_norm", False))
    scale = None
    if rescale:  # pre * n selects, acts / n decode: fold n into the encoder, unit atoms
        W_enc, b_enc, D = W_enc * norms, b_enc * norms, W_dec / norms[:, None]
    elif float((norms - 1).abs().max()) <= 64 * torch.finfo(dtype).eps:
        D = W_dec
    else:
        D, scale = W_dec / norms[:, None], norms
    activation = _OURS[architecture]
    k = int(cfg.k) if activation in ("topk", "abstopk") else None
    device = sae.W_dec.device
    ours = SAE(d_in, d_sae, activation, k=k, dtype=dtype, output_scale=True if scale is not None else False,
               **options).to(device)  # fmt: skip
    with torch.no_grad():
        ours.W_dec.copy_(D.mT)
        ours.W_enc.copy_(W_enc)
        ours.b_enc.copy_(b_enc)
        ours.b_dec.copy_(b_dec)
        if scale is not None:
            ours.scale.copy_(scale)
        if activation == "jumprelu":
            ours.log_threshold.copy_(torch.log(sae.threshold.detach().double().clamp_min(0)))
    return ours


def save_sae_lens(model: SAE, path) -> tuple:
    """Write ``model`` in sae-lens's layout: ``path/cfg.json`` and
    ``path/sae_weights.safetensors``, by sae-lens's own ``save_model`` on :func:`to_sae_lens`
    (so ``sae_lens.SAE.load_from_disk(path)`` reads it). Returns the two paths."""
    return to_sae_lens(model).save_model(path)


def load_sae_lens(path, *, device="cpu", dtype: torch.dtype | None = None, **options) -> SAE:
    """Read an SAE saved in sae-lens's layout (by sae-lens's ``save_model`` or
    :func:`save_sae_lens`) with sae-lens's own ``load_from_disk`` onto ``device``, then
    :func:`from_sae_lens` (``dtype``, ``options``)."""
    import pathlib

    sae_lens = _require_sae_lens()
    if not isinstance(path, (str, pathlib.Path)):
        raise TypeError(f"path: expected a directory path, got {describe(path)}")
    folder = pathlib.Path(path)
    missing = [name for name in ("cfg.json", "sae_weights.safetensors") if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"path: expected {', '.join(missing)} in {str(folder)!r} (sae-lens's layout)")
    return from_sae_lens(sae_lens.SAE.load_from_disk(folder, device=str(device)), dtype=dtype, **options)


__all__ = ["to_sae_lens", "from_sae_lens", "save_sae_lens", "load_sae_lens", "ARCHITECTURES"]
