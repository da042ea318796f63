"""Layer 3: tensor formats (Tucker, tensor train = MPS/MPO, LPDO, PEPS/PEPO) and contraction planning."""

from tensorrec.formats.base import Format, FormatMixin, ManifoldOptions, manifold_of, stack, unstack
from tensorrec.formats.fused import fuse, fused_identity, unfuse
from tensorrec.formats.interop import from_quimb, from_tensorly, to_quimb, to_tensorly
from tensorrec.formats.lpdo import LPDO
from tensorrec.formats.paired import PairedRankOne
from tensorrec.formats.peps import PEPO, PEPS, LatticeLPDO, PEPSDensity, snake_order
from tensorrec.formats.tt import TTTensor, check_tt_ranks
from tensorrec.formats.tucker import TuckerTensor, check_tucker_ranks, mode_product, unfold

__all__ = [
    "Format",
    "FormatMixin",
    "ManifoldOptions",
    "manifold_of",
    "stack",
    "unstack",
    "TuckerTensor",
    "TTTensor",
    "PairedRankOne",
    "LPDO",
    "PEPS",
    "PEPO",
    "PEPSDensity",
    "LatticeLPDO",
    "snake_order",
    "fuse",
    "unfuse",
    "fused_identity",
    "check_tucker_ranks",
    "check_tt_ranks",
    "mode_product",
    "unfold",
    "to_tensorly",
    "from_tensorly",
    "to_quimb",
    "from_quimb",
]
