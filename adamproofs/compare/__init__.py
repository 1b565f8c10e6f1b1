"""Compare Adam with the optimizers it came from (issue 5).

Ten problems (``adamproofs compare --help`` lists them), all stepping through
:class:`adamproofs.fast.Optimizer` with configurations from :mod:`adamproofs.config`;
Newton's method (:mod:`.newton`) is the only update rule written here.

- :mod:`.roster`: the optimizers compared and the learning-rate grids;
- :mod:`.functions`, :mod:`.models`, :mod:`.data`: the problems;
- :mod:`.runner`: one run, joblib grids, sweeps;
- :mod:`.experiments`: one module per problem; :mod:`.report`, :mod:`.figures`: output;
- :mod:`.cli`: the ``compare`` sub-command.
"""

from .experiments import PROBLEMS

__all__ = ["PROBLEMS"]
