"""A plain NumPy Adam that follows the checker's plain-code protocol (Algorithm 1).

Check it with:  adamproofs check docs/examples/my_adam.py:MyAdam   (from the repository root)
"""

import numpy as np


class MyAdam:
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.params, self.h = params, (lr, beta1, beta2, eps)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = [0] * len(params)

    def step(self, grads):  # grads[i] is an array or None (skip that parameter)
        lr, b1, b2, eps = self.h
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            self.t[i] += 1
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            mhat = self.m[i] / (1 - b1 ** self.t[i])
            vhat = self.v[i] / (1 - b2 ** self.t[i])
            p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)


if __name__ == "__main__":
    params = [np.array([1.0, -2.0])]
    opt = MyAdam(params, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step([np.array([3.0, 0.5])])
    print("after one step:", params[0])  # each coordinate moves by lr = 0.1 against g
