"""Layer 6: quantum state tomography (:ref:`theory-tomography`). Measurement families and their
samplers, classical shadows and their projections, and state metrics; the estimators are
compositions of a POVM operator (:mod:`tensorrec.operators.povm`), a format and the core."""

from tensorrec.quantum import mpo, peps
from tensorrec.quantum.estimators import TomographyResult, UnphysicalEstimateWarning, estimate
from tensorrec.quantum.frames import (
    design_defect,
    frame_potential,
    mub_vectors,
    pauli,
    random_clifford,
    sic_qubit,
    stabilizer_states,
)
from tensorrec.quantum.metrics import fidelity, frobenius_error, trace_distance
from tensorrec.quantum.observables import (
    SettingsWarning,
    ShadowEstimate,
    ShadowEstimates,
    estimate_observables,
    fidelity_from_shadows,
    snapshot_values,
)
from tensorrec.quantum.outcomes import Outcomes
from tensorrec.quantum.povms import (
    MUB,
    POVM,
    HaarBases,
    HaarUniform,
    LocalMUB,
    LocalPauli,
    LocalSIC,
    Stabilizer,
)
from tensorrec.quantum.resampling import BootstrapResult, bootstrap
from tensorrec.quantum.shadows import classical_shadow, project_density, project_pure
from tensorrec.quantum.starts import product_start
from tensorrec.quantum.states import (
    check_state,
    density,
    haar_unitary,
    random_mixed_state,
    random_pure_state,
)

__all__ = [
    "mpo",
    "peps",
    "estimate",
    "product_start",
    "TomographyResult",
    "UnphysicalEstimateWarning",
    "POVM",
    "LocalSIC",
    "LocalMUB",
    "LocalPauli",
    "MUB",
    "Stabilizer",
    "HaarUniform",
    "HaarBases",
    "Outcomes",
    "sic_qubit",
    "mub_vectors",
    "pauli",
    "stabilizer_states",
    "random_clifford",
    "frame_potential",
    "design_defect",
    "classical_shadow",
    "estimate_observables",
    "bootstrap",
    "BootstrapResult",
    "fidelity_from_shadows",
    "snapshot_values",
    "ShadowEstimate",
    "SettingsWarning",
    "ShadowEstimates",
    "project_density",
    "project_pure",
    "fidelity",
    "frobenius_error",
    "trace_distance",
    "check_state",
    "density",
    "haar_unitary",
    "random_pure_state",
    "random_mixed_state",
]
