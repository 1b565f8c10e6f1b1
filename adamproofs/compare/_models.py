r"""Models with hand-written NumPy gradients, on one flat parameter vector θ.

- :class:`SoftmaxRegression`: multinomial logistic regression with L2 penalty
  :math:`\frac{1}{N}\sum_n -\log p_{n,y_n} + \frac{\lambda}{2}\|W\|^2` (with its exact
  Hessian, for Newton's method).
- :class:`SparseLogistic`: binary logistic regression on sparse features, with the
  paper's dropout noise on the inputs.
- :class:`MLP`: a fully connected network (ReLU or tanh), optional dropout on the hidden
  layers, softmax cross-entropy or squared-error loss (an autoencoder when the target is
  the input).

Minibatches are drawn without replacement from the run's rng at every step, from the
training rows only; ``loss`` is the full training loss and ``heldout_loss`` the loss on rows
never trained on (the digits: a fixed stratified fifth, :func:`.data.digits_split`; the
bag-of-words: documents generated from the same model).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._data import digits_split, zipf_bag_of_words


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def batch_indices(n: int, batch: int | None, rng: np.random.Generator) -> np.ndarray | slice:
    """A minibatch of ``batch`` distinct rows drawn from the run's rng (all rows if None)."""
    if batch is None or batch >= n:
        return slice(None)
    return rng.choice(n, size=batch, replace=False)


@dataclass
class SoftmaxRegression:
    """Digits, 10 classes, 64 pixels + bias; θ = W.ravel() with W of shape (65, 10)."""

    batch: int | None = 128
    l2: float = 1e-3
    init_scale: float = 0.01

    def __post_init__(self) -> None:
        x, y, xte, yte = digits_split()
        self.x = np.hstack([x, np.ones((x.shape[0], 1))])
        self.y = y
        self.k = 10
        self.onehot = np.eye(self.k)[y]
        self.x_test = np.hstack([xte, np.ones((xte.shape[0], 1))])
        self.onehot_test = np.eye(self.k)[yte]
        self.dim = self.x.shape[1] * self.k

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return self.init_scale * rng.standard_normal(self.dim)

    def _w(self, theta: np.ndarray) -> np.ndarray:
        return theta.reshape(self.x.shape[1], self.k)

    def loss_grad(self, theta: np.ndarray, idx: np.ndarray | slice) -> tuple[float, np.ndarray]:
        w = self._w(theta)
        xb, yb = self.x[idx], self.onehot[idx]
        p = _softmax(xb @ w)
        n = xb.shape[0]
        loss = -np.sum(yb * np.log(np.maximum(p, 1e-300))) / n + 0.5 * self.l2 * np.dot(
            theta, theta
        )
        g = xb.T @ (p - yb) / n + self.l2 * w
        return float(loss), g.reshape(-1)

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return self.loss_grad(theta, batch_indices(self.x.shape[0], self.batch, rng))[1]

    def _loss_on(self, theta: np.ndarray, x: np.ndarray, onehot: np.ndarray) -> float:
        z = x @ self._w(theta)
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.sum(onehot * logp) / x.shape[0] + 0.5 * self.l2 * np.dot(theta, theta))

    def loss(self, theta: np.ndarray, t: int = 0) -> float:
        """Full training loss (forward pass only)."""
        return self._loss_on(theta, self.x, self.onehot)

    def heldout_loss(self, theta: np.ndarray) -> float:
        """The same objective on the held-out digits."""
        return self._loss_on(theta, self.x_test, self.onehot_test)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        r"""Full-batch Hessian: :math:`\frac1N\sum_n (\mathrm{diag}(p_n)-p_np_n^T)\otimes
        x_nx_n^T + \lambda I`, in θ's index order (feature-major, class-minor)."""
        p = _softmax(self.x @ self._w(theta))
        n, d = self.x.shape
        a = -p[:, :, None] * p[:, None, :]
        a[:, np.arange(self.k), np.arange(self.k)] += p
        xx = (self.x[:, :, None] * self.x[:, None, :]).reshape(n, d * d)
        h = (xx.T @ a.reshape(n, self.k * self.k)) / n  # (d*d, k*k)
        h = h.reshape(d, d, self.k, self.k).transpose(0, 2, 1, 3).reshape(d * self.k, d * self.k)
        h[np.diag_indices_from(h)] += self.l2
        return h


@dataclass
class SparseLogistic:
    """Binary logistic regression on the Zipf bag-of-words (θ = word weights + bias).

    Gradient noise as in the paper's IMDB experiment: each present feature of the
    minibatch is dropped with probability ``dropout`` (kept ones scaled by 1/(1-p)).
    Minibatch products use the CSR arrays directly (gather + ``np.bincount``): scipy's
    row slicing costs more than the whole step at this size.
    """

    batch: int = 64
    dropout: float = 0.5
    n_docs: int = 2000
    vocab: int = 2000
    n_heldout: int = 1000

    def __post_init__(self) -> None:
        x, y, _ = zipf_bag_of_words(self.n_docs + self.n_heldout, self.vocab)
        self.x, self.y = x[: self.n_docs], y[: self.n_docs]
        self.x_test, self.y_test = x[self.n_docs :], y[self.n_docs :]
        self.indptr = np.asarray(self.x.indptr, dtype=np.int64)
        self.indices = np.asarray(self.x.indices, dtype=np.int64)
        self.dim = self.vocab + 1

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return np.zeros(self.dim)

    def _rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row number within the batch, column) of every nonzero of the rows ``idx``."""
        starts, stops = self.indptr[idx], self.indptr[idx + 1]
        lengths = stops - starts
        row = np.repeat(np.arange(idx.size), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return row, self.indices[np.repeat(starts, lengths) + offsets]

    def _loss_grad_rows(
        self, theta: np.ndarray, row: np.ndarray, col: np.ndarray, val: np.ndarray, yb: np.ndarray
    ) -> tuple[float, np.ndarray]:
        n = yb.size
        z = np.bincount(row, weights=theta[col] * val, minlength=n) + theta[-1]
        loss = float(np.mean(np.logaddexp(0.0, z) - yb * z))  # log(1+e^z) - y z, stably
        r = (1.0 / (1.0 + np.exp(-z)) - yb) / n
        g = np.empty(self.dim)
        g[:-1] = np.bincount(col, weights=r[row] * val, minlength=self.vocab)
        g[-1] = r.sum()
        return loss, g

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = np.asarray(batch_indices(self.n_docs, self.batch, rng))
        row, col = self._rows(idx)
        val = np.ones(row.size)
        if self.dropout > 0:
            val *= (rng.random(row.size) >= self.dropout) / (1.0 - self.dropout)
        return self._loss_grad_rows(theta, row, col, val, self.y[idx])[1]

    def loss_grad_batch(
        self, theta: np.ndarray, idx: np.ndarray, val: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient on rows ``idx`` (feature values ``val``, default all ones)."""
        row, col = self._rows(np.asarray(idx))
        v = np.ones(row.size) if val is None else val
        return self._loss_grad_rows(theta, row, col, v, self.y[idx])

    def loss(self, theta: np.ndarray, t: int = 0) -> float:
        z = self.x @ theta[:-1] + theta[-1]
        return float(np.mean(np.logaddexp(0.0, z) - self.y * z))

    def heldout_loss(self, theta: np.ndarray) -> float:
        """Mean log-loss on the held-out documents (no dropout)."""
        z = self.x_test @ theta[:-1] + theta[-1]
        return float(np.mean(np.logaddexp(0.0, z) - self.y_test * z))


@dataclass
class MLP:
    """A network on the digits: ``hidden`` layer widths, activation, dropout, loss.

    ``task="classify"``: softmax cross-entropy on the labels; ``task="autoencode"``:
    mean over samples of ½‖x̂ - x‖² (the input is the target).
    """

    hidden: tuple[int, ...] = (128, 128)
    activation: str = "relu"
    dropout: float = 0.2
    task: str = "classify"
    batch: int = 128

    def __post_init__(self) -> None:
        if self.activation not in ("relu", "tanh"):
            raise ValueError(f"activation={self.activation!r} is not one of ('relu', 'tanh')")
        if self.task not in ("classify", "autoencode"):
            raise ValueError(f"task={self.task!r} is not one of ('classify', 'autoencode')")
        x, y, xte, yte = digits_split()
        self.x = x
        self.target = np.eye(10)[y] if self.task == "classify" else x
        self.x_test = xte
        self.target_test = np.eye(10)[yte] if self.task == "classify" else xte
        sizes = (x.shape[1], *self.hidden, self.target.shape[1])
        self.shapes = [(a, b) for a, b in itertools.pairwise(sizes)]
        self.offsets = [0]
        for a, b in self.shapes:
            self.offsets.append(self.offsets[-1] + a * b + b)
        self.dim = self.offsets[-1]

    def layers(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for (a, b), o in zip(self.shapes, self.offsets):
            out.append((theta[o : o + a * b].reshape(a, b), theta[o + a * b : o + a * b + b]))
        return out

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """He (ReLU) or Glorot (tanh) normal initialisation, zero biases."""
        theta = np.zeros(self.dim)
        for (w, _), (a, b) in zip(self.layers(theta), self.shapes):
            scale = np.sqrt(2.0 / a) if self.activation == "relu" else np.sqrt(2.0 / (a + b))
            w[...] = scale * rng.standard_normal((a, b))
        return theta

    def loss_grad(
        self, theta: np.ndarray, idx: np.ndarray | slice, rng: np.random.Generator | None
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient on the rows ``idx``; dropout is applied only when rng is given."""
        layers = self.layers(theta)
        h = self.x[idx]
        target = self.target[idx]
        n = h.shape[0]
        acts, masks, derivs = [h], [], []
        for i, (w, b) in enumerate(layers):
            z = h @ w + b
            if i == len(layers) - 1:
                break
            if self.activation == "relu":
                h = np.maximum(z, 0.0)
                derivs.append(z > 0)
            else:
                h = np.tanh(z)
                derivs.append(1.0 - h * h)
            mask = None
            if rng is not None and self.dropout > 0:
                mask = (rng.random(h.shape) >= self.dropout) / (1.0 - self.dropout)
                h = h * mask
            masks.append(mask)
            acts.append(h)
        if self.task == "classify":
            p = _softmax(z)
            loss = -np.sum(target * np.log(np.maximum(p, 1e-300))) / n
            dz = (p - target) / n
        else:
            r = z - target
            loss = 0.5 * np.sum(r * r) / n
            dz = r / n
        grad = np.empty_like(theta)
        glayers = self.layers(grad)
        for i in range(len(layers) - 1, -1, -1):
            gw, gb = glayers[i]
            np.dot(acts[i].T, dz, out=gw)
            gb[...] = dz.sum(axis=0)
            if i == 0:
                break
            dh = dz @ layers[i][0].T
            if masks[i - 1] is not None:
                dh *= masks[i - 1]
            dz = dh * derivs[i - 1]
        return float(loss), grad

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = batch_indices(self.x.shape[0], self.batch, rng)
        return self.loss_grad(theta, idx, rng)[1]

    def _loss_on(self, theta: np.ndarray, x: np.ndarray, target: np.ndarray) -> float:
        layers = self.layers(theta)
        h = x
        for i, (w, b) in enumerate(layers):
            z = h @ w + b
            if i < len(layers) - 1:
                h = np.maximum(z, 0.0) if self.activation == "relu" else np.tanh(z)
        n = x.shape[0]
        if self.task == "classify":
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-np.sum(target * logp) / n)
        r = z - target
        return float(0.5 * np.sum(r * r) / n)

    def loss(self, theta: np.ndarray, t: int = 0) -> float:
        """Full training loss without dropout (forward pass only)."""
        return self._loss_on(theta, self.x, self.target)

    def heldout_loss(self, theta: np.ndarray) -> float:
        """Loss on the held-out digits, without dropout."""
        return self._loss_on(theta, self.x_test, self.target_test)


def softmax_regression(**kw: object) -> SoftmaxRegression:
    return SoftmaxRegression(**kw)  # type: ignore[arg-type]


def sparse_logistic(**kw: object) -> SparseLogistic:
    return SparseLogistic(**kw)  # type: ignore[arg-type]


def mlp(**kw: object) -> MLP:
    if "hidden" in kw:
        kw["hidden"] = tuple(kw["hidden"])  # type: ignore[arg-type]
    return MLP(**kw)  # type: ignore[arg-type]
