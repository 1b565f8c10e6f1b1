"""Compare Adam with the optimizers it came from.

Eleven problems (``adamproofs compare --help`` lists them), all stepping through
:class:`adamproofs.fast.Optimizer` with configurations from :mod:`adamproofs.config`;
Newton's method (:mod:`.newton`) is the only update rule written here, and a user's
optimizer (``--optimizer module:attr``) runs through the conformance suite's adapters.

- :mod:`.roster`: the optimizers compared;
- :mod:`.lrsearch`: learning-rate grids widened until each best rate is interior;
- :mod:`.functions`, :mod:`.models`, :mod:`.torch_models`, :mod:`.data`: the problems
  (training and held-out data; PyTorch supplies only gradients, and is optional);
- :mod:`.runner`: one run, joblib grids, sweeps;
- :mod:`.experiments`: one module per problem; :mod:`.findings`: sentences computed from
  the tables; :mod:`.report`, :mod:`.figures`: output;
- :mod:`.cli`: the ``compare`` sub-command.
"""

from .experiments import PROBLEMS

__all__ = ["PROBLEMS"]
