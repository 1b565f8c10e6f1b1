"""Data sets that need no download: scikit-learn's bundled digits, and a generated
Zipf bag-of-words (both cached per process, both fixed: seeds vary only the runs)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 digits shipped inside scikit-learn: X in [0, 1] (N, 64), labels (N,)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the digits problems need scikit-learn (pip install 'adamproofs[compare]')"
        ) from err
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    x.setflags(write=False)
    y = np.asarray(bunch.target, dtype=np.int64)
    y.setflags(write=False)
    return x, y


#: Share of the digits held out (the same split for every seed and every problem).
HELDOUT_FRACTION = 0.2


@lru_cache(maxsize=1)
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits split once into training and held-out rows: (x_train, y_train, x_test,
    y_test). Stratified by class (every class gives the same share), fixed seed."""
    x, y = digits()
    rng = np.random.default_rng(0)
    test = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        test[rng.choice(rows, size=round(HELDOUT_FRACTION * rows.size), replace=False)] = True
    out = (x[~test], y[~test], x[test], y[test])
    for a in out:
        a.setflags(write=False)
    return out


@lru_cache(maxsize=4)
def zipf_bag_of_words(
    n_docs: int = 2000, vocab: int = 2000, doc_len: int = 40, exponent: float = 1.1, seed: int = 0
):  # -> (csr_matrix, labels, w*)
    r"""Binary bag-of-words documents whose words follow Zipf's law.

    Word j (1-based rank) is drawn with probability ∝ j^(-exponent); each document has
    Poisson(doc_len) tokens; the feature is word presence (0/1). Labels come from a
    planted logistic model y ~ Bernoulli(σ(x·w* + b*)) with w*_j ~ N(0, 1): every word,
    frequent or rare, carries the same amount of signal, so rare features matter.
    """
    from scipy import sparse

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1) ** exponent
    p /= p.sum()
    lengths = np.maximum(1, rng.poisson(doc_len, n_docs))
    rows = np.repeat(np.arange(n_docs), lengths)
    cols = rng.choice(vocab, size=rows.size, p=p)
    x = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n_docs, vocab))
    x.sum_duplicates()
    x.data[:] = 1.0
    w = rng.standard_normal(vocab)
    logits = x @ w
    logits -= logits.mean()
    y = (rng.random(n_docs) < 1.0 / (1.0 + np.exp(-logits))).astype(np.float64)
    return x, y, w
