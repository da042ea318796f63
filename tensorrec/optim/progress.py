"""The progress bar of the iterative methods (tqdm, on standard error; off by default).

Every loop of :mod:`tensorrec.optim` draws it through :class:`ProgressBar` (one tick per
iteration, the current cost as the postfix, the stop reason when the run ends), and the
functions built on them (:func:`~tensorrec.recovery.recover`,
:func:`~tensorrec.quantum.estimate`, :func:`~tensorrec.quantum.peps.estimate_peps`) pass
their ``progress=`` keyword down; :func:`~tensorrec.sae.train`, a training loop of its own,
uses the same bar. The bar only displays: a run with ``progress=True`` computes the same
numbers as one without.
"""

from __future__ import annotations

from tensorrec._backend import check_bool, describe


def check_progress_label(label, default: str) -> str:
    """The label of a run's bar: ``label`` (a caller's name for the method actually running,
    e.g. ``"gauss_newton"`` for an rgd run with a Gauss-Newton step) or the loop's own name
    ``default`` when None; anything but a string is refused, naming ``progress_label``."""
    if label is None:
        return default
    if not isinstance(label, str):
        raise TypeError(
            f"progress_label: expected a string (the method's name) or None, got {describe(label)}"
        )
    return label


class ProgressBar:
    """A tqdm bar over the iterations of a run, or nothing when ``progress`` is False.

    Parameters
    ----------
    progress : bool
        Draw the bar (True or False; anything else is refused by name, before any work).
    desc : str
        The label in front of the bar (the method's name).
    total : int, optional
        The number of iterations when it is known in advance (the bar then shows a fraction
        and an estimate of the time left).
    unit : str
        What one tick counts (``"it"``: an iteration; ``"step"``, ``"sweep"`` ...).

    Examples
    --------
    >>> bar = ProgressBar(False, "rgd")  # progress=False: every call is a no-op
    >>> bar.update(1, value=0.5)
    >>> bar.close("max_iter")
    """

    def __init__(self, progress: bool, desc: str, *, total: int | None = None, unit: str = "it"):
        self.bar = None
        if check_bool("progress", progress):
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=desc, total=total, unit=unit)
        self.postfix: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        """Whether a bar is drawn (for a caller that must compute what it shows)."""
        return self.bar is not None

    def update(self, iteration: int, **numbers: float | int) -> None:
        """Move the bar to ``iteration`` iterations done and show ``numbers`` after it (e.g.
        the current cost ``value=``; floats with 4 significant digits, ints as they are)."""
        if self.bar is None:
            return
        self.postfix = {name: f"{v:.3e}" if isinstance(v, float) else str(v) for name, v in numbers.items()}
        self.bar.set_postfix(self.postfix, refresh=False)
        if iteration > self.bar.n:
            self.bar.update(iteration - self.bar.n)

    def close(self, reason: str | None = None) -> None:
        """Show the stop reason (when given) with the last numbers and close the bar."""
        if self.bar is None:
            return
        if reason is not None:
            self.bar.set_postfix({**self.postfix, "stop": reason}, refresh=False)
        self.bar.close()
        self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["ProgressBar", "check_progress_label"]
