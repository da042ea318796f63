"""Layer 6: simultaneous blind deconvolution and phase retrieval (BDPR), bdpr_landscape spec."""

from tensorrec.bdpr.model import BDPRModel, lift, tensor_error

__all__ = ["BDPRModel", "lift", "tensor_error"]
