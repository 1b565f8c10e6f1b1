"""The oracle in five lines: exact hyperparameters, any precision, a digit count."""

from adamproofs import reference
from adamproofs.config import Adam

# Hyperparameters as decimal strings are taken exactly (0.9 is 9/10, not the nearest double).
cfg = Adam(lr="0.001", beta1="0.9", beta2="0.999", eps="1e-8")

# One step: with bias correction the first step is exactly -lr * g / (|g| + eps).
theta, state = reference.step(cfg, [1.0, -2.0], [3.0, 0.5])
print("after one step:", [float(x) for x in theta])

# A trajectory at 50 significant digits; gradients from a function of θ and t (1-based).
traj = reference.run(cfg, [1.0], lambda theta, t: [2 * theta[0]], steps=100, dps=50)
print("θ_100 =", traj.theta(100)[0])
print("correct digits (estimated):", round(traj.correct_digits()))

# The same run on mpmath intervals: a guaranteed enclosure of the exact real result.
enclosure = reference.run(
    cfg, [1.0], lambda theta, t: [2 * theta[0]], steps=100, dps=30, arithmetic="iv"
)
print("θ_100 ∈", enclosure.theta(100)[0])
