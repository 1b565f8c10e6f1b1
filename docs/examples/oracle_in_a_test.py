"""Check an implementation against the oracle, with the project's floating-point error bound.

The implementation here is adamproofs' own NumPy Adam; put yours in its place. In a test suite,
replace the final print by the assert.
"""

import numpy as np

from adamproofs import reference, tolerance
from adamproofs.config import Adam
from adamproofs.fast import Optimizer

cfg = Adam(lr=1e-2)
rng = np.random.default_rng(0)
grads = rng.standard_normal((50, 3))  # 50 steps of a 3-parameter problem
theta0 = np.array([0.5, -1.0, 2.0])

# The implementation under test, in float32.
params = [theta0.astype(np.float32)]
opt = Optimizer(cfg, params)
actual = [params[0].astype(np.float64)]
for g in grads:
    opt.step([g.astype(np.float32)])
    actual.append(params[0].astype(np.float64))
actual = np.array(actual)

# The exact trajectory on the same (float32-rounded) inputs, and the error bound along it.
exact = reference.run(cfg, theta0.astype(np.float32), grads.astype(np.float32)).to_numpy()
bound = tolerance.error_bound(cfg, exact, compute_dtype="float32")
excess = bound.excess(actual, exact["theta"])
ulps = tolerance.error_in_ulps(actual, exact["theta"], "float32")

print(f"worst error: {ulps.max():.1f} ulps of float32; {excess.max():.3f} of the allowed bound")
assert (excess <= 1).all(), "the implementation left the error bound"
