r"""Models whose gradients come from PyTorch's autograd (the updates do not).

The parameters are one flat float64 NumPy vector θ, stepped by :mod:`adamproofs.fast`
like every other problem; PyTorch only evaluates the loss and its gradient. Each call
views θ as float32 tensors (one per layer), runs the forward pass and ``backward``,
and hands the gradient back as a float64 NumPy vector.

- :class:`CNN`: two 3×3 convolutions (8 and 16 channels, ReLU, 2×2 max-pooling) and a
  linear layer with dropout before it, on the 8×8 digits; softmax cross-entropy.
- :class:`VAE`: a variational autoencoder of the digits (the Adam paper's Figure 4
  model, smaller): encoder 64-h-(μ, log σ²) with d latent dimensions, decoder d-h-64,
  softplus hidden units, Bernoulli likelihood on the pixel intensities. The loss is the
  negative evidence lower bound per image,
  :math:`-\mathbb E_{q(z|x)}\log p(x|z) + \mathrm{KL}(q(z|x)\,\|\,\mathcal N(0, I))`,
  estimated with one reparameterised sample :math:`z = \mu + \sigma\epsilon`. Training
  steps draw fresh ε; the recorded losses use one fixed ε per image, so the curves are
  deterministic functions of θ.

PyTorch is optional (``pip install 'adamproofs[torch]'``); :func:`require_torch` says
why a problem cannot run without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._data import digits_split
from ._models import batch_indices


class TorchMissing(ImportError):
    """PyTorch is not installed (the problems that need it are skipped)."""


def require_torch() -> Any:
    """The ``torch`` module, single-threaded (parallelism comes from the grid)."""
    try:
        import torch
    except ImportError as err:
        raise TorchMissing(
            "this problem takes its gradients from PyTorch's autograd, which is "
            "not installed (pip install 'adamproofs[torch]')"
        ) from err
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return torch


@dataclass
class FlatParams:
    """Named shapes laid out one after the other in a flat vector."""

    shapes: dict[str, tuple[int, ...]]
    offsets: dict[str, int] = field(init=False)
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        self.offsets = {}
        pos = 0
        for name, shape in self.shapes.items():
            self.offsets[name] = pos
            pos += math.prod(shape)
        self.dim = pos

    def views(self, flat: Any) -> dict[str, Any]:
        """Per-name views (reshaped slices) of a flat array or tensor."""
        return {
            name: flat[o : o + math.prod(s)].reshape(s)
            for (name, s), o in zip(self.shapes.items(), self.offsets.values())
        }


class _TorchProblem:
    """Shared plumbing: θ (NumPy float64) → float32 leaf tensor → loss → gradient."""

    layout: FlatParams
    dim: int

    def _leaf(self, theta: np.ndarray, grad: bool) -> Any:
        torch = require_torch()
        return torch.tensor(theta, dtype=torch.float32, requires_grad=grad)

    def _loss_tensor(self, params: dict[str, Any], x: Any, y: Any, rng: Any, train: bool) -> Any:
        raise NotImplementedError

    def _grad(self, theta: np.ndarray, x: Any, y: Any, rng: Any) -> np.ndarray:
        flat = self._leaf(theta, True)
        loss = self._loss_tensor(self.layout.views(flat), x, y, rng, True)
        loss.backward()
        return flat.grad.numpy().astype(np.float64)

    def _eval(self, theta: np.ndarray, x: Any, y: Any, noise: Any) -> float:
        torch = require_torch()
        with torch.no_grad():
            flat = self._leaf(theta, False)
            return float(self._loss_tensor(self.layout.views(flat), x, y, noise, False))


@dataclass
class CNN(_TorchProblem):
    """Conv(1→8, 3×3) → ReLU → max-pool → Conv(8→16, 3×3) → ReLU → max-pool → dropout →
    Linear(64 → 10) on the 8×8 digits (He-normal weights, zero biases)."""

    batch: int = 64
    dropout: float = 0.25

    def __post_init__(self) -> None:
        torch = require_torch()
        xtr, ytr, xte, yte = digits_split()
        self.xtr = torch.tensor(xtr, dtype=torch.float32).reshape(-1, 1, 8, 8)
        self.ytr = torch.tensor(ytr)
        self.xte = torch.tensor(xte, dtype=torch.float32).reshape(-1, 1, 8, 8)
        self.yte = torch.tensor(yte)
        self.layout = FlatParams(
            {
                "c1w": (8, 1, 3, 3),
                "c1b": (8,),
                "c2w": (16, 8, 3, 3),
                "c2b": (16,),
                "fw": (10, 64),
                "fb": (10,),
            }
        )
        self.dim = self.layout.dim

    def init(self, rng: np.random.Generator) -> np.ndarray:
        theta = np.zeros(self.dim)
        v = self.layout.views(theta)
        for name, fan_in in (("c1w", 9), ("c2w", 72), ("fw", 64)):
            v[name][...] = math.sqrt(2.0 / fan_in) * rng.standard_normal(v[name].shape)
        return theta

    def _loss_tensor(self, p: dict[str, Any], x: Any, y: Any, rng: Any, train: bool) -> Any:
        torch = require_torch()
        f = torch.nn.functional
        h = f.max_pool2d(f.relu(f.conv2d(x, p["c1w"], p["c1b"], padding=1)), 2)
        h = f.max_pool2d(f.relu(f.conv2d(h, p["c2w"], p["c2b"], padding=1)), 2)
        h = h.reshape(h.shape[0], -1)
        if train and self.dropout > 0:
            keep = rng.random(tuple(h.shape)) >= self.dropout
            h = h * torch.from_numpy(keep.astype(np.float32) / (1.0 - self.dropout))
        return f.cross_entropy(h @ p["fw"].T + p["fb"], y)

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = batch_indices(self.xtr.shape[0], self.batch, rng)
        return self._grad(theta, self.xtr[idx], self.ytr[idx], rng)

    def loss(self, theta: np.ndarray, t: int = 0) -> float:
        """Training loss on the whole training split, without dropout."""
        return self._eval(theta, self.xtr, self.ytr, None)

    def heldout_loss(self, theta: np.ndarray) -> float:
        """Loss on the held-out split."""
        return self._eval(theta, self.xte, self.yte, None)


@dataclass
class VAE(_TorchProblem):
    """Encoder 64-``hidden``-(μ, log σ²) and decoder ``latent``-``hidden``-64, softplus units."""

    hidden: int = 64
    latent: int = 8
    batch: int = 100

    def __post_init__(self) -> None:
        torch = require_torch()
        xtr, _, xte, _ = digits_split()
        self.xtr = torch.tensor(xtr, dtype=torch.float32)
        self.xte = torch.tensor(xte, dtype=torch.float32)
        h, d = self.hidden, self.latent
        self.layout = FlatParams(
            {
                "e1w": (64, h),
                "e1b": (h,),
                "muw": (h, d),
                "mub": (d,),
                "lvw": (h, d),
                "lvb": (d,),
                "d1w": (d, h),
                "d1b": (h,),
                "d2w": (h, 64),
                "d2b": (64,),
            }
        )
        self.dim = self.layout.dim
        fixed = np.random.default_rng(20141222)  # the ε of the recorded losses, fixed
        self.eps_tr = torch.tensor(fixed.standard_normal((xtr.shape[0], d)), dtype=torch.float32)
        self.eps_te = torch.tensor(fixed.standard_normal((xte.shape[0], d)), dtype=torch.float32)

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """Glorot-normal weights, zero biases."""
        theta = np.zeros(self.dim)
        v = self.layout.views(theta)
        for name in ("e1w", "muw", "lvw", "d1w", "d2w"):
            a, b = v[name].shape
            v[name][...] = math.sqrt(2.0 / (a + b)) * rng.standard_normal((a, b))
        return theta

    def _loss_tensor(self, p: dict[str, Any], x: Any, y: Any, rng: Any, train: bool) -> Any:
        torch = require_torch()
        f = torch.nn.functional
        h = f.softplus(x @ p["e1w"] + p["e1b"])
        mu, logvar = h @ p["muw"] + p["mub"], h @ p["lvw"] + p["lvb"]
        eps = (
            torch.from_numpy(rng.standard_normal(tuple(mu.shape)).astype(np.float32))
            if train
            else y
        )
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = f.softplus(z @ p["d1w"] + p["d1b"]) @ p["d2w"] + p["d2b"]
        rec = f.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1.0 + logvar - mu * mu - torch.exp(logvar))
        return (rec + kl) / x.shape[0]

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = batch_indices(self.xtr.shape[0], self.batch, rng)
        return self._grad(theta, self.xtr[idx], None, rng)

    def loss(self, theta: np.ndarray, t: int = 0) -> float:
        """Negative ELBO per training image (fixed ε)."""
        return self._eval(theta, self.xtr, self.eps_tr, None)

    def heldout_loss(self, theta: np.ndarray) -> float:
        """Negative ELBO per held-out image (fixed ε)."""
        return self._eval(theta, self.xte, self.eps_te, None)


def cnn(**kw: Any) -> CNN:
    return CNN(**kw)


def vae(**kw: Any) -> VAE:
    return VAE(**kw)
