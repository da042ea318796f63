"""Layer 5: factorized objectives (format x operator x loss) and recovery."""

from tensorrec.recovery.objective import LeastSquares

__all__ = ["LeastSquares"]
