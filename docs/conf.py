"""Sphinx configuration for the tensorrec documentation (built with -W: warnings fail)."""

import os

import tensorrec

project = "tensorrec"
author = "tensorrec developers"
release = version = tensorrec.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
nitpicky = False

# The example gallery (issue 29): every examples/plot_*.py runs in the build, in this process,
# on one thread (pin_threads also sets the thread variables that subprocesses and workers
# inherit); an example that raises fails the build. Per-example times after a build:
# docs/sg_execution_times.rst.
os.environ.setdefault("MPLBACKEND", "Agg")
tensorrec.pin_threads(1)
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",  # execute every plot_*.py
    "ignore_pattern": r"__init__\.py|[\\/]_[^\\/]*\.py$",  # _helpers.py next to the examples
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "capture_repr": (),  # show what the examples print, not the value of a cell's last line
}
