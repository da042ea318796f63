"""
Regenerating a paper figure
===========================

Every figure of the papers has a script in ``experiments/`` with the same shape (a
``Config``, a ``--quick`` mode, ``compute``, ``plot`` and ``main``; see :doc:`/reproduce`).
The command line runs one with ``tensorrec experiments run <name> --quick``; from Python,
:func:`tensorrec.runner.get_script` finds the script in the checkout and its ``main`` takes
the same flags. This example regenerates experiment E8 -- the error of the spectral start
of TT and Tucker sensing against the number of measurements -- in quick mode, and shows the
figure and the manifest the run wrote.
"""

import json
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import tensorrec as tr
from tensorrec.runner import get_script

tr.pin_threads(1)

# %%
# Run the script
# --------------
# ``--quick`` shrinks the grid to a few seconds; ``--backend serial`` runs the trials in this
# process (the default starts worker processes, which pays off on full runs). The results,
# the figure (PNG and PDF) and ``manifest.json`` go to ``OUT/<name>/``, and every trial to a
# store there, so a rerun with the same flags reads them back.
name = "tt_tucker_spectral_init_error"
script = get_script(name)
print(script.summary)
out = Path(tempfile.mkdtemp(prefix="tensorrec-figure-"))
code = script.load().main(["--quick", "--seed", "0", "--out", str(out), "--backend", "serial"])
print("exit status", code)

# %%
# The figure
# ----------
figures = sorted((out / name).glob("*.png"))
for png in figures:
    image = plt.imread(png)
    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / image.shape[1]))
    ax.imshow(image)
    ax.set_axis_off()
    ax.set_title(png.name)
plt.tight_layout()
plt.show()

# %%
# The manifest
# ------------
# What the run used: the configuration (quick mode), the seed, the versions, the threads and
# the wall time.
manifest = json.loads((out / name / "manifest.json").read_text())
for key in ("config", "seed", "wall_seconds", "device"):
    print(f"{key}: {manifest.get(key)}")
print("threads: torch", manifest["threads"]["torch"], "| env", manifest["threads"]["env"])

# %%
# The run's folder was temporary: remove it (``--out results`` keeps everything in place).
shutil.rmtree(out)
