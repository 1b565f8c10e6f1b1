"""Algorithm 1 with the teaching-material slip "divide m_t and v_t by 1 - β2^t".

Used by the "reading a failure report" section: the checker must reject it.
"""

import numpy as np


class BrokenAdam:
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.params, self.h = params, (lr, beta1, beta2, eps, weight_decay)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = [0] * len(params)

    def step(self, grads):
        lr, b1, b2, eps, wd = self.h
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            self.t[i] += 1
            g = g + wd * p
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            mhat = self.m[i] / (1 - b2 ** self.t[i])  # the slip: should be b1
            vhat = self.v[i] / (1 - b2 ** self.t[i])
            p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)
