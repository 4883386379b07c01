#!/usr/bin/env python3
"""Reference values for the dro_lt and difficulty_net losses, computed with PyTorch's Python API.

Each reference is written from the formulas of /work/shared/reference/methods.md (section 5.2
for DRO-LT, including a literal transcription of the official code's mask pairing of 5.7.7;
sections 4.2 and 4.3 for Difficulty-Net, with torch.optim.Adam as the meta optimiser), in
float64 and deliberately loop-based or step-by-step rather than vectorised like the C++.
Run with Debian's /usr/bin/python3 (python3-torch); writes tests/golden/data/<name>.json in
the format of tests/support/golden.hpp.
"""
import math
import sys

import torch
import torch.nn.functional as F

from make_goldens import case, main as write_goldens  # the shared JSON format and writer

GENERATORS = {}
DT = torch.float64

# A long-tailed count vector for five classes (head to tail).
LT_COUNTS = [500, 120, 40, 10, 3]


def generator(fn):
    GENERATORS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------------------------------
# DRO-LT (methods.md 5.2, 5.3, 5.7)
# ---------------------------------------------------------------------------------------

def dro_data():
    g = torch.Generator().manual_seed(11)
    c, d, m = 5, 6, 40
    offsets = torch.randn(c, d, generator=g, dtype=DT) * 1.5
    bank_labels = (torch.arange(m) % c)[torch.randperm(m, generator=g)]
    bank = offsets[bank_labels] + torch.randn(m, d, generator=g, dtype=DT)
    # Class 4 is absent from the batch; the labels are deliberately not sorted.
    targets = torch.tensor([2, 0, 3, 1, 0, 2, 2, 3, 0, 1, 0, 3])
    features = offsets[targets] + torch.randn(len(targets), d, generator=g, dtype=DT)
    logits = torch.randn(len(targets), c, generator=g, dtype=DT) * 2.0
    return bank, bank_labels, features, targets, logits


def grad_or_zeros(x):
    return x.grad if x.grad is not None else torch.zeros_like(x)


def class_means(bank, labels, c):
    return torch.stack([bank[labels == k].mean(0) for k in range(c)])


def robust_reduce(terms, present, u):
    """Unweighted: mean of l_c over the present classes. Weighted (dvirsamuel/DRO-LT:
    losses.py with class_weights, reached from main.py as robust_loss_bal): the sum of
    u_c l_c over the present classes divided by the sum of u_c over every centroid class
    (here all classes: the bank holds every class)."""
    if u is None:
        return torch.stack(terms).mean()
    return sum(u[c] * l for c, l in zip(present, terms)) / u.sum()


def robust_intended(f, y, mu, eps, t, u=None):
    """5.2: s_ci = -(||mu_c - f_i|| + eps_c [y_i = c]) / T, softmax over the batch samples i,
    l_c = -mean_{i in B_c} log p_ci, reduced by robust_reduce."""
    n = f.shape[0]
    terms = []
    present = sorted(set(y.tolist()))
    for c in present:
        s = torch.stack([-(torch.linalg.norm(mu[c] - f[i]) + (eps[c] if y[i] == c else 0.0)) / t
                         for i in range(n)])
        log_p = s - torch.logsumexp(s, 0)
        positives = [i for i in range(n) if y[i] == c]
        terms.append(-sum(log_p[i] for i in positives) / len(positives))
    return robust_reduce(terms, present, u)


def robust_official(f, y, mu, eps, t, u=None):
    """5.7.7: the official code's boolean-mask assignment, transcribed: pairwise[mask] =
    pairwise[mask] - eps[y] enumerates the positives class-sorted but eps[y] in batch order."""
    c = mu.shape[0]
    dist = torch.stack([torch.stack([torch.linalg.norm(mu[k] - f[i]) for i in range(f.shape[0])])
                        for k in range(c)])
    pairwise = -dist
    mask = torch.arange(c).view(-1, 1) == y.view(1, -1)
    a = pairwise.clone()
    pairwise[mask] = a[mask] - eps[y]
    logits = pairwise / t
    log_prob = logits - torch.log(torch.exp(logits).sum(1, keepdim=True))
    present = [k for k in range(c) if mask[k].any()]
    per_class = [-log_prob[k][mask[k]].mean() for k in present]
    return robust_reduce(per_class, present, u)


def robust_class_weights(mode):
    """main.py's two weight vectors: "balanced" is sklearn's compute_class_weight('balanced'),
    n_samples / (n_classes * bincount); "long_tailed" is cls_num_list / max(cls_num_list)."""
    counts = torch.tensor(LT_COUNTS, dtype=DT)
    if mode == "balanced":
        return counts.sum() / (len(LT_COUNTS) * counts)
    if mode == "long_tailed":
        return counts / counts.max()
    return None


def dro_ce(z, y, mode):
    if mode == "off":
        return torch.zeros((), dtype=DT)
    if mode == "plain":
        return F.cross_entropy(z, y)
    counts = torch.tensor(LT_COUNTS, dtype=DT)
    return F.cross_entropy(z, y, weight=counts / counts.max())  # 5.3: v_c = n_c / max n


@generator
def dro_lt():
    bank, bank_labels, features, targets, logits = dro_data()
    c = logits.shape[1]
    mu = class_means(bank, bank_labels, c)
    counts = torch.tensor(LT_COUNTS, dtype=DT)
    # Margins that float32 holds exactly: a learned eps is a float32 parameter.
    unequal = torch.tensor([1.0, 0.625, 1.375, 0.3125, 0.875], dtype=DT)
    variants = [
        ("default", {}, None),
        ("unequal_eps", {}, unequal),
        ("unequal_eps_official_pairing", {"epsilon_pairing": "official"}, unequal),
        ("equal_eps_official_pairing", {"epsilon_pairing": "official"}, None),
        ("t05_lambda2_plain_ce", {"temperature": 0.5, "lambda": 2.0, "ce": "plain"}, unequal),
        ("code_default_t007_ce_off", {"temperature": 0.07, "ce": "off"}, None),
        ("fixed_eps", {"epsilon_mode": "fixed", "epsilon": 0.5}, None),
        ("count_eps", {"epsilon_mode": "count", "epsilon": 2.0}, None),
        ("lambda0_ce_only", {"lambda": 0.0}, None),
        ("balanced_robust_weights", {"robust_weights": "balanced"}, unequal),
        ("balanced_robust_weights_official_pairing",
         {"robust_weights": "balanced", "epsilon_pairing": "official"}, unequal),
        ("long_tailed_robust_weights_t05", {"robust_weights": "long_tailed", "temperature": 0.5,
                                            "ce": "plain"}, None),
    ]
    cases = []
    for name, options, eps_values in variants:
        mode = options.get("epsilon_mode", "learned")
        base = options.get("epsilon", 1.0)
        if eps_values is not None:
            eps = eps_values.clone()
        elif mode == "count":
            eps = base * torch.sqrt(counts.min() / counts)
        else:
            eps = torch.full((c,), base, dtype=DT)
        t = options.get("temperature", 1.0)
        lam = options.get("lambda", 1.0)
        pairing = options.get("epsilon_pairing", "intended")
        f = features.clone().requires_grad_(True)
        z = logits.clone().requires_grad_(True)
        e = eps.clone().requires_grad_(True)
        rob_fn = robust_official if pairing == "official" else robust_intended
        rob = rob_fn(f, targets, mu, e, t, robust_class_weights(options.get("robust_weights")))
        ce = dro_ce(z, targets, options.get("ce", "frequency_weighted"))
        loss = ce + lam * rob
        loss.backward()
        tensors = {"bank": bank, "bank_labels": bank_labels, "centroids": mu,
                   "features": features, "targets": targets, "logits": logits, "epsilon": eps,
                   "grad_features": grad_or_zeros(f), "grad_logits": grad_or_zeros(z),
                   "grad_epsilon": grad_or_zeros(e)}
        if eps_values is not None:
            tensors["epsilon_values"] = eps_values
        cases.append(case(name, options, tensors,
                          {"loss": loss, "rob_loss": rob, "ce_loss": ce},
                          context={"class_counts": LT_COUNTS}))
    return cases


# ---------------------------------------------------------------------------------------
# Difficulty-Net (methods.md 4.2, 4.3, 4.7)
# ---------------------------------------------------------------------------------------

def phi_init(c, h, bias, seed):
    """nn.Linear-style U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, as named by the C++ loss."""
    g = torch.Generator().manual_seed(seed)
    widths = [c, h, h, c]
    # Rounded to float32 values: phi is a float32 parameter of the loss.
    f32 = lambda t: t.float().double()
    phi = {}
    for layer in range(3):
        bound = 1.0 / math.sqrt(widths[layer])
        phi[f"phi.{layer}.weight"] = f32((torch.rand(widths[layer + 1], widths[layer],
                                                     generator=g, dtype=DT) * 2 - 1) * bound)
        if bias:
            phi[f"phi.{layer}.bias"] = f32((torch.rand(widths[layer + 1], generator=g, dtype=DT)
                                            * 2 - 1) * bound)
    return phi


def phi_forward(phi, a, bias):
    """4.2: C -> H -> H -> C, ReLU, ReLU, sigmoid."""
    h = a
    for layer in range(3):
        h = F.linear(h, phi[f"phi.{layer}.weight"], phi.get(f"phi.{layer}.bias") if bias else None)
        h = torch.relu(h) if layer < 2 else torch.sigmoid(h)
    return h


def dn_weights(d):
    return d.shape[0] * d / d.sum()  # w_c = C d_c / sum_k d_k


def dn_driver(d, a):
    t = 1.0 - a / (a.sum() + 1e-12)
    return ((d - t) ** 2).mean()


def dn_per_sample(z, y, base):
    if base == "balanced_softmax":
        z = z + torch.log(torch.tensor(LT_COUNTS, dtype=DT))
    return F.cross_entropy(z, y, reduction="none")


def dn_task(z, y, w, base):
    """4.2: (1/|B|) sum_i w_{y_i} l(z_i, y_i)."""
    return (w[y] * dn_per_sample(z, y, base)).mean()


@generator
def difficulty_net():
    g = torch.Generator().manual_seed(5)
    c, h = 5, 8
    logits = torch.randn(10, c, generator=g, dtype=DT) * 2.0
    targets = torch.randint(0, c, (10,), generator=g)
    measured = [0.9, 0.7, 0.5, 0.2, 0.05]
    cases = []

    # Weights, driver loss and task loss for a given phi and accuracy vector.
    variants = [
        ("unmeasured_bias_free", {"hidden": h}, [0.0] * c, 1),
        ("measured_bias_free_ce", {"hidden": h}, measured, 2),
        ("measured_bias_balanced_softmax", {"hidden": h, "bias": True, "base": "balanced_softmax"},
         measured, 3),
        ("unmeasured_bias", {"hidden": h, "bias": True}, [0.0] * c, 4),
    ]
    for name, options, acc, seed in variants:
        bias = options.get("bias", False)
        phi = {k: v.requires_grad_(True) for k, v in phi_init(c, h, bias, seed).items()}
        a = torch.tensor(acc, dtype=DT)
        d = phi_forward(phi, a, bias)
        w = dn_weights(d)
        z = logits.clone().requires_grad_(True)
        task = dn_task(z, targets, w, options.get("base", "ce"))
        task_grads = torch.autograd.grad(task, [z] + list(phi.values()), retain_graph=True)
        drv = dn_driver(d, a)
        drv_grads = torch.autograd.grad(drv, list(phi.values()), allow_unused=True)
        tensors = {k: v for k, v in phi.items()}
        tensors.update({"logits": logits, "targets": targets, "d": d, "w": w,
                        "grad_logits": task_grads[0]})
        for (k, v), gt, gd in zip(phi.items(), task_grads[1:], drv_grads):
            tensors["task_grad." + k] = gt
            tensors["driver_grad." + k] = gd if gd is not None else torch.zeros_like(v)
        cases.append(case(name, options, tensors, {"loss": task, "driver": drv},
                          context={"class_counts": LT_COUNTS, "accuracy": acc}))

    # The one-step look-ahead of 4.3 on a linear head, then two Adam steps on phi.
    feat_dim, alpha, lr, wd, lam = 4, 0.5, 1e-2, 1e-4, 0.3
    feats = torch.randn(10, feat_dim, generator=g, dtype=DT)
    head_w0 = torch.randn(c, feat_dim, generator=g, dtype=DT) * 0.5
    head_b0 = torch.randn(c, generator=g, dtype=DT) * 0.1
    meta_feats = torch.randn(10, feat_dim, generator=g, dtype=DT)
    meta_targets = torch.arange(10) % c  # class-balanced meta batch
    lookahead = [
        ("lookahead_bilevel_ce", {"hidden": h}, 6),
        # The meta loss is the base loss by default (official ImageNet-LT code): Balanced
        # Softmax here; "meta_loss": "ce" keeps plain cross-entropy on the meta batch.
        ("lookahead_bilevel_bias_balanced_softmax",
         {"hidden": h, "bias": True, "base": "balanced_softmax"}, 7),
        ("lookahead_bilevel_bias_balanced_softmax_meta_ce",
         {"hidden": h, "bias": True, "base": "balanced_softmax", "meta_loss": "ce"}, 7),
        ("lookahead_detached_official", {"hidden": h, "detach_weights_in_virtual_step": True}, 6),
    ]
    for name, options, seed in lookahead:
        options = dict(options, lr=lr, weight_decay=wd, **{"lambda": lam})
        bias = options.get("bias", False)
        detach = options.get("detach_weights_in_virtual_step", False)
        base = options.get("base", "ce")
        meta_base = base if options.get("meta_loss", "base") == "base" else "ce"
        phi0 = phi_init(c, h, bias, seed)
        phi = {k: v.clone().requires_grad_(True) for k, v in phi0.items()}
        adam = torch.optim.Adam(list(phi.values()), lr=lr, weight_decay=wd)
        a = torch.tensor(measured, dtype=DT)
        tensors = {k: v for k, v in phi0.items()}
        tensors.update({"features": feats, "targets": targets, "head_weight": head_w0,
                        "head_bias": head_b0, "meta_features": meta_feats,
                        "meta_targets": meta_targets})
        scalars = {"alpha": alpha}
        for step in (1, 2):
            w_head = head_w0.clone().requires_grad_(True)
            b_head = head_b0.clone().requires_grad_(True)
            w = dn_weights(phi_forward(phi, a, bias))
            if detach:
                w = w.detach()
            inner = dn_task(F.linear(feats, w_head, b_head), targets, w, base)
            gw, gb = torch.autograd.grad(inner, [w_head, b_head], create_graph=True)
            meta = dn_per_sample(F.linear(meta_feats, w_head - alpha * gw, b_head - alpha * gb),
                                 meta_targets, meta_base).mean()
            meta_grads = torch.autograd.grad(meta, list(phi.values()), retain_graph=True,
                                             allow_unused=True)
            adam.zero_grad()
            objective = meta + lam * dn_driver(phi_forward(phi, a, bias), a)
            objective.backward()
            adam.step()
            scalars[f"meta_loss_{step}"] = meta
            for (k, v), gm in zip(phi.items(), meta_grads):
                tensors[f"meta_grad_{step}.{k}"] = gm if gm is not None else torch.zeros_like(v)
                tensors[f"after_{step}.{k}"] = v.detach().clone()
        # The real step's weights with the updated phi (no grad, 4.3 step 5).
        tensors["w_after_2"] = dn_weights(phi_forward(phi, a, bias)).detach()
        cases.append(case(name, options, tensors, scalars,
                          context={"class_counts": LT_COUNTS, "accuracy": measured}))
    return cases


if __name__ == "__main__":
    write_goldens(sys.argv[1:], GENERATORS, "tests/golden/make_goldens_meta.py")
