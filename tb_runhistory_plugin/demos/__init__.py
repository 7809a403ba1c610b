"""Demos with real data: a ridge-regression sweep and a numpy MLP that writes its own event files.

``tb-runhistory demo`` runs both and serves them in TensorBoard; ``demo/sweep.py`` and
``demo/train.py`` in the repository are thin scripts over these functions. The data ships in
``data/`` (source and licence in ``data/README.md``).
"""

from ._serve import serve
from .live import start_live_training
from .sweep import run_sweep
from .train import default_logs_root, run_training

__all__ = ["default_logs_root", "run_sweep", "run_training", "serve", "start_live_training"]
