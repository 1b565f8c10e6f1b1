"""A plain NumPy Adam that follows the checker's plain-code protocol (Algorithm 1).

Weight decay is the L2 form (added to the gradient), as in torch.optim.Adam.
Check it with:  PYTHONPATH=docs/examples adamproofs check my_adam:MyAdam
"""

import numpy as np


class MyAdam:
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.params, self.h = params, (lr, beta1, beta2, eps, weight_decay)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = [0] * len(params)

    def step(self, grads):  # grads[i] is an array or None (skip that parameter)
        lr, b1, b2, eps, wd = self.h
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            self.t[i] += 1
            g = g + wd * p  # L2 weight decay
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
