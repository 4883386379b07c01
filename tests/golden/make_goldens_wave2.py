#!/usr/bin/env python3
"""Reference values for the math of the wave-2 methods: CMO's CutMix, mixup, RIDE's loss, SADE.

Each generator writes the inputs it was given, the intermediate quantities a C++ port must
reproduce and the results, in float64, from the formulas of
/work/shared/reference/methods_wave2.md and, where that leaves something open, the official
code it cites (read, not imported: every formula is written out here step by step, and where
PyTorch has an equivalent functional, the two are asserted to agree). Randomness is never
drawn inside a formula: the lambda, the box centre and the permutation are explicit inputs,
as a C++ test would supply them.

MiSLAS's label-aware smoothing already has reference values (make_goldens.py, function
label_aware_smoothing, used by plugins/losses/label_aware_smoothing), so none are added here.

Run with Debian's /usr/bin/python3 (python3-torch); writes tests/golden/data/<name>.json in
the format of tests/support/golden.hpp (integers, such as box corners, as int64 tensors):

    /usr/bin/python3 tests/golden/make_goldens_wave2.py              # all files
    /usr/bin/python3 tests/golden/make_goldens_wave2.py ride sade    # some
"""
import math
import sys

import torch
import torch.nn.functional as F

from make_goldens import case, main as write_goldens  # the shared JSON format and writer

GENERATORS = {}
DT = torch.float64

# A long-tailed count vector for six classes (head to tail), distinct counts so that SADE's
# rank reversal of the prior has no ties.
LT_COUNTS = [500, 200, 80, 30, 12, 5]


def generator(fn):
    GENERATORS[fn.__name__] = fn
    return fn


def loss_and_grad(fn, x):
    x = x.clone().requires_grad_(True)
    value = fn(x)
    value.backward()
    return value.detach(), x.grad.detach()


def ce_mean(z, y, weight=None):
    """-log softmax(z)_y averaged over the batch; with `weight`, PyTorch's weighted mean
    sum_i w_{y_i} l_i / sum_i w_{y_i}. Written out, then checked against F.cross_entropy."""
    log_p = z - torch.logsumexp(z, dim=1, keepdim=True)
    per = -log_p.gather(1, y.unsqueeze(1)).squeeze(1)
    if weight is None:
        value = per.mean()
    else:
        w_y = weight[y]
        value = (w_y * per).sum() / w_y.sum()
    assert torch.allclose(value, F.cross_entropy(z, y, weight=weight), rtol=1e-12, atol=0)
    return value


# ---------------------------------------------------------------------------------------
# CMO (methods_wave2.md 1.1): CutMix of a batch with a minority-oversampled batch.
# ---------------------------------------------------------------------------------------

def rand_bbox(size, lam, cx, cy):
    """naver-ai/cmo:cifar_train.py::rand_bbox with its two np.random.randint draws supplied:
    cx in [0, size[2]), cy in [0, size[3]). The code calls size[2] "W" and size[3] "H", but
    each size and draw is used along the same tensor dimension (box rows bbx1:bbx2 on dim 2,
    columns bby1:bby2 on dim 3), so the box is right for any shape. A cut of odd length
    c gives a box of 2 * (c // 2) = c - 1 before clipping."""
    rows, cols = size[2], size[3]
    assert 0 <= cx < rows and 0 <= cy < cols
    cut_rat = math.sqrt(1.0 - lam)
    cut_rows = int(rows * cut_rat)
    cut_cols = int(cols * cut_rat)
    clip = lambda v, hi: min(max(v, 0), hi)
    return (clip(cx - cut_rows // 2, rows), clip(cy - cut_cols // 2, cols),
            clip(cx + cut_rows // 2, rows), clip(cy + cut_cols // 2, cols))


@generator
def cmo_cutmix():
    """CMO's CutMix (Park et al., CVPR 2022; naver-ai/cmo:cifar_train.py::train): one box per
    batch; inside it, the background batch x_a is overwritten with the oversampled batch x_b
    at the same coordinates; lambda is recomputed as 1 - box area / (H W) and the loss is
    lam L(f(x), y_a) + (1 - lam) L(f(x), y_b) with L = CE (mean) or, for BS+CMO, the
    balanced softmax CE(z + log pi). The logits stand in for f(x); `grad` is d loss / d
    logits. Tensors: inputs_a, inputs_b, mixed [N, C, H, W]; box [x1, y1, x2, y2] (rows
    x1:x2 of dim 2, columns y1:y2 of dim 3); draws [cx, cy]; soft_targets = lam one_hot(y_a)
    + (1 - lam) one_hot(y_b), whose soft CE equals the loss. Scalars: lambda (as drawn) and
    lambda_adjusted (the label mass of y_a)."""
    cases = []
    g = torch.Generator().manual_seed(31)
    num_classes = len(LT_COUNTS)
    prior = torch.tensor(LT_COUNTS, dtype=DT) / sum(LT_COUNTS)
    variants = [
        # name, size (N, C, H, W), lambda, (cx, cy), loss
        ("square_interior", (2, 2, 8, 8), 0.6, (4, 3), "ce"),
        ("square_clipped_corner", (2, 1, 8, 8), 0.3, (0, 7), "ce"),
        ("odd_cut_shrinks", (2, 1, 8, 8), 0.5, (4, 4), "ce"),
        ("lambda_near_one_empty_box", (2, 1, 8, 8), 0.995, (2, 5), "ce"),
        ("lambda_zero_whole_image", (2, 1, 8, 8), 0.0, (4, 4), "ce"),
        ("non_square", (2, 1, 6, 10), 0.5, (5, 2), "ce"),
        ("balanced_softmax", (3, 1, 8, 8), 0.45, (6, 1), "balanced_softmax"),
    ]
    for name, size, lam, (cx, cy), loss_name in variants:
        inputs_a = torch.randn(*size, generator=g, dtype=DT)
        inputs_b = torch.randn(*size, generator=g, dtype=DT)
        targets_a = torch.randint(0, num_classes, (size[0],), generator=g)
        targets_b = torch.randint(0, num_classes, (size[0],), generator=g)
        logits = torch.randn(size[0], num_classes, generator=g, dtype=DT) * 2.0

        x1, y1, x2, y2 = rand_bbox(size, lam, cx, cy)
        mixed = inputs_a.clone()
        for n in range(size[0]):
            for c in range(size[1]):
                for r in range(x1, x2):
                    for q in range(y1, y2):
                        mixed[n, c, r, q] = inputs_b[n, c, r, q]
        lam_adj = 1.0 - ((x2 - x1) * (y2 - y1) / (size[-1] * size[-2]))

        shift = torch.log(prior) if loss_name == "balanced_softmax" else torch.zeros(num_classes, dtype=DT)

        def fn(z):
            return (ce_mean(z + shift, targets_a) * lam_adj
                    + ce_mean(z + shift, targets_b) * (1.0 - lam_adj))

        loss, grad = loss_and_grad(fn, logits)
        soft = (lam_adj * F.one_hot(targets_a, num_classes).to(DT)
                + (1.0 - lam_adj) * F.one_hot(targets_b, num_classes).to(DT))
        soft_loss = -(soft * F.log_softmax(logits + shift, dim=1)).sum(1).mean()
        assert torch.allclose(soft_loss, loss, rtol=1e-12, atol=0)
        tensors = {"inputs_a": inputs_a, "inputs_b": inputs_b, "mixed": mixed,
                   "box": torch.tensor([x1, y1, x2, y2]), "draws": torch.tensor([cx, cy]),
                   "targets_a": targets_a, "targets_b": targets_b, "logits": logits,
                   "soft_targets": soft, "grad": grad}
        cases.append(case(name, {"loss": loss_name}, tensors,
                          {"lambda": lam, "lambda_adjusted": lam_adj, "loss": loss},
                          context={"class_counts": LT_COUNTS}))
    return cases


# ---------------------------------------------------------------------------------------
# MiSLAS stage 1 (methods_wave2.md 2.1): input mixup with a per-batch lambda.
# ---------------------------------------------------------------------------------------

@generator
def mixup():
    """Mixup as MiSLAS stage 1 uses it (Zhong et al., CVPR 2021; dvlab-research/MiSLAS:
    methods.py::mixup_data, mixup_criterion): with lambda and the permutation supplied,
    mixed = lam x + (1 - lam) x[perm], y_b = y[perm], loss = lam CE(z, y) + (1 - lam)
    CE(z, y_b), CE the batch mean. alpha = 0 in the code means lam = 1 (no mixing). The
    logits stand in for f(mixed); `grad` is d loss / d logits; soft_targets as in cmo_cutmix."""
    cases = []
    g = torch.Generator().manual_seed(32)
    num_classes = len(LT_COUNTS)
    variants = [
        # name, input shape, lambda, permutation
        ("images", (4, 1, 3, 3), 0.7, [2, 0, 3, 1]),
        ("features_fixed_point", (5, 6), 0.2, [0, 3, 4, 1, 2]),
        ("alpha_zero_no_mix", (4, 2, 2, 2), 1.0, [1, 2, 3, 0]),
        ("lambda_half", (3, 4), 0.5, [2, 1, 0]),
    ]
    for name, shape, lam, perm in variants:
        x = torch.randn(*shape, generator=g, dtype=DT)
        y = torch.randint(0, num_classes, (shape[0],), generator=g)
        logits = torch.randn(shape[0], num_classes, generator=g, dtype=DT) * 2.0
        index = torch.tensor(perm)
        mixed = torch.stack([lam * x[i] + (1.0 - lam) * x[perm[i]] for i in range(shape[0])])
        y_b = torch.tensor([y[perm[i]].item() for i in range(shape[0])])

        def fn(z):
            return lam * ce_mean(z, y) + (1.0 - lam) * ce_mean(z, y_b)

        loss, grad = loss_and_grad(fn, logits)
        soft = lam * F.one_hot(y, num_classes).to(DT) + (1.0 - lam) * F.one_hot(y_b, num_classes).to(DT)
        assert torch.allclose(-(soft * F.log_softmax(logits, 1)).sum(1).mean(), loss, rtol=1e-12)
        tensors = {"inputs": x, "permutation": index, "mixed": mixed, "targets_a": y,
                   "targets_b": y_b, "logits": logits, "soft_targets": soft, "grad": grad}
        cases.append(case(name, {}, tensors, {"lambda": lam, "loss": loss}))
    return cases


# ---------------------------------------------------------------------------------------
# RIDE (methods_wave2.md 3.1): per-expert LDAM(-DRW) plus the diversity (KL) term.
# ---------------------------------------------------------------------------------------

def ride_margins(counts, max_m):
    n = torch.tensor(counts, dtype=DT)
    m = 1.0 / torch.sqrt(torch.sqrt(n))
    return m * (max_m / m.max())


def effective_number_weights(counts, beta):
    n = torch.tensor(counts, dtype=DT)
    w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=DT), n))
    return w / w.sum() * len(counts)


def ride_temperatures(counts, reweight_factor):
    """t_k = C pi_k gamma + 1 - gamma, divided by its maximum (the code's "experimental
    normalization")."""
    n = torch.tensor(counts, dtype=DT)
    pi = n / n.sum()
    t = len(counts) * pi * reweight_factor + 1.0 - reweight_factor
    assert bool((t > 0).all())
    return t / t.max()


@generator
def ride():
    """RIDE's loss (Wang et al., ICLR 2021; frank-xwang/RIDE-LongTailRecognition:
    model/loss.py::RIDELoss) for K = 3 experts with cosine logits already scaled by s = 30
    (NormedLinear * s), the ensemble z_bar = mean_i z_i (the model's output):
      L = sum_i [ CE_w(z_i - s m_y e_y, y) + lambda T_bar^2 KL(softmax(z_bar / T) || softmax(z_i / T)) ]
    m_k = max_m n_k^-1/4 / max_j n_j^-1/4; CE_w is PyTorch's weighted mean with the DRW
    weights (beta 0.9999, sum C) once DRW is on, else unweighted; T = base T (1) before DRW,
    after it the per-class T_k = base T t_k (see ride_temperatures), dividing the logits
    elementwise, and T_bar = mean_k T_k; the KL is `batchmean` with the ensemble side under
    no_grad; lambda = additional_diversity_factor (negative: the KL is maximised). With
    lambda = 0 the code's CE uses z_bar instead of z_i (the "collaborative" loss). The DRW
    switch (1-idx epoch > reweight_epoch) is the caller's business: `drw` says which side of
    it a case is on. Tensors: expert_logits [K, N, C], ce_terms [K] and kl_terms [K] (the KL
    before lambda T_bar^2), grad = d L / d expert_logits (through z_bar where it is used
    with grad); margins, weights, temperatures. Scalar temperature_mean is T_bar."""
    cases = []
    g = torch.Generator().manual_seed(33)
    k, n, c, d, s, max_m = 3, 6, len(LT_COUNTS), 8, 30.0, 0.5
    variants = [
        ("cifar_before_drw", {"additional_diversity_factor": -0.45, "reweight_factor": 0.05,
                              "drw": False}),
        ("cifar_after_drw", {"additional_diversity_factor": -0.45, "reweight_factor": 0.05,
                             "drw": True}),
        ("imagenet_after_drw", {"additional_diversity_factor": -0.2, "reweight_factor": 0.02,
                                "drw": True}),
        ("collaborative_lambda0", {"additional_diversity_factor": 0.0, "reweight_factor": 0.05,
                                   "drw": True}),
        ("base_temperature_2", {"additional_diversity_factor": -0.45, "reweight_factor": 0.05,
                                "drw": True, "base_diversity_temperature": 2.0}),
    ]
    for name, options in variants:
        features = F.normalize(torch.randn(k, n, d, generator=g, dtype=DT), dim=2)
        weights = F.normalize(torch.randn(k, c, d, generator=g, dtype=DT), dim=2)
        expert_logits = s * torch.einsum("knd,kcd->knc", features, weights)
        targets = torch.randint(0, c, (n,), generator=g)
        lam = options["additional_diversity_factor"]
        base_t = options.get("base_diversity_temperature", 1.0)
        margins = ride_margins(LT_COUNTS, max_m)
        if options["drw"]:
            drw = effective_number_weights(LT_COUNTS, 0.9999)
            temps = base_t * ride_temperatures(LT_COUNTS, options["reweight_factor"])
        else:
            drw = None
            temps = torch.full((c,), base_t, dtype=DT)
        t_bar = temps.mean().item()
        parts = {}

        def fn(all_logits):
            z_bar = all_logits.mean(0)
            total = 0.0
            ce_terms, kl_terms = [], []
            for i in range(k):
                z = z_bar if lam == 0 else all_logits[i]
                one_hot = F.one_hot(targets, c).to(DT)
                ce = ce_mean(z - s * margins[targets].unsqueeze(1) * one_hot, targets, drw)
                log_q = F.log_softmax(all_logits[i] / temps, dim=1)
                p = F.softmax(z_bar.detach() / temps, dim=1)
                kl = (p * (torch.log(p) - log_q)).sum() / n
                assert torch.allclose(kl, F.kl_div(log_q, p, reduction="batchmean"), rtol=1e-10)
                total = total + ce + lam * t_bar * t_bar * kl
                ce_terms.append(ce.detach())
                kl_terms.append(kl.detach())
            parts["ce"] = torch.stack(ce_terms)
            parts["kl"] = torch.stack(kl_terms)
            return total

        loss, grad = loss_and_grad(fn, expert_logits)
        tensors = {"expert_logits": expert_logits, "targets": targets, "grad": grad,
                   "ensemble_logits": expert_logits.mean(0), "ce_terms": parts["ce"],
                   "kl_terms": parts["kl"], "margins": margins, "temperatures": temps}
        if drw is not None:
            tensors["weights"] = drw
        full = {"max_m": max_m, "s": s, "base_diversity_temperature": base_t,
                "drw_beta": 0.9999, **options}
        cases.append(case(name, full, tensors, {"loss": loss, "temperature_mean": t_bar},
                          context={"class_counts": LT_COUNTS}))
    return cases


# ---------------------------------------------------------------------------------------
# SADE (methods_wave2.md 4.1): three expert losses and test-time aggregation.
# ---------------------------------------------------------------------------------------

def inverse_prior(prior):
    """The j-th smallest class gets the j-th largest prior (a rank reversal of pi, not
    1/pi); Vanint/SADE-AgnosticLT:model/loss.py::DiverseExpertLoss.inverse_prior."""
    order = sorted(range(len(prior)), key=lambda i: prior[i].item())
    values = [prior[i].item() for i in order]
    out = torch.empty_like(prior)
    for rank, cls in enumerate(order):
        out[cls] = values[len(values) - 1 - rank]
    return out


@generator
def sade_loss():
    """SADE's training loss (Zhang et al., NeurIPS 2022; Vanint/SADE-AgnosticLT:
    model/loss.py::DiverseExpertLoss), a sum, not a mean, of
      CE(z1, y) + CE(z2 + log(pi + 1e-9), y) + CE(z3 + log(pi + 1e-9) - tau log(pi_bar + 1e-9), y)
    (softmax, balanced softmax, inverse softmax), CE the batch mean, pi = n / N, pi_bar its
    rank reversal (inverse_prior), tau = 2 by default. Tensors: expert_logits [3, N, C],
    prior, inverse_prior, expert_losses [3], grad = d loss / d expert_logits."""
    cases = []
    g = torch.Generator().manual_seed(34)
    n, c = 7, len(LT_COUNTS)
    unsorted = [80, 500, 5, 30, 200, 12]  # classes not ordered by count
    for name, counts, tau in [("cifar_tau2", LT_COUNTS, 2.0), ("unsorted_counts_tau2", unsorted, 2.0),
                              ("tau1", LT_COUNTS, 1.0)]:
        expert_logits = torch.randn(3, n, c, generator=g, dtype=DT) * 3.0
        targets = torch.randint(0, c, (n,), generator=g)
        prior = torch.tensor(counts, dtype=DT) / sum(counts)
        inv = inverse_prior(prior)
        # The same reversal by ranks: class of rank r gets the sorted prior at C - 1 - r.
        rank = torch.argsort(torch.argsort(prior))
        assert torch.equal(inv, torch.sort(prior).values[len(counts) - 1 - rank])
        parts = {}

        def fn(z):
            l1 = ce_mean(z[0], targets)
            l2 = ce_mean(z[1] + torch.log(prior + 1e-9), targets)
            l3 = ce_mean(z[2] + torch.log(prior + 1e-9) - tau * torch.log(inv + 1e-9), targets)
            parts["losses"] = torch.stack([l1, l2, l3]).detach()
            return l1 + l2 + l3

        loss, grad = loss_and_grad(fn, expert_logits)
        cases.append(case(name, {"tau": tau},
                          {"expert_logits": expert_logits, "targets": targets, "prior": prior,
                           "inverse_prior": inv, "expert_losses": parts["losses"], "grad": grad},
                          {"loss": loss}, context={"class_counts": counts}))
    return cases


def sgd_nesterov_step(w, grad, buf, lr, momentum, weight_decay):
    """torch.optim.SGD(nesterov=True, dampening=0) written out: d = g + wd w; buf = d on the
    first step, else momentum buf + d; w - lr (d + momentum buf)."""
    d = grad + weight_decay * w
    buf = d.clone() if buf is None else momentum * buf + d
    return w - lr * (d + momentum * buf), buf


@generator
def sade_aggregation():
    """SADE's test-time self-supervised aggregation (Vanint/SADE-AgnosticLT:
    test_training_cifar.py::test_training): three numbers w (init 1/3 each), a = softmax(w),
    z_hat(v) = sum_k a_k z_k(v) on the raw expert logits of a frozen model, loss = -mean_batch
    cos(softmax(z_hat(v1)), softmax(z_hat(v2))) for two augmented views v1, v2 of the same
    unlabeled images; SGD with the training optimiser config (momentum 0.9, Nesterov, weight
    decay 5e-4 on w; lr 0.1 CIFAR, 0.025 ImageNet-LT), one step per batch. The expert logits
    of each step's batch are inputs (views_1 / views_2 [steps, 3, N, C]); per step the case
    records the loss, the gradient of w, w after the step and a = softmax(w) after it."""
    cases = []
    g = torch.Generator().manual_seed(35)
    n, c = 6, len(LT_COUNTS)
    for name, lr, steps in [("cifar_two_steps", 0.1, 2), ("imagenet_lr_two_steps", 0.025, 2),
                            ("cifar_one_step", 0.1, 1)]:
        # Expert 2 agrees with itself across views more than the others, so w moves.
        base = torch.randn(steps, 3, n, c, generator=g, dtype=DT) * 2.0
        noise = torch.tensor([1.0, 0.2, 0.8], dtype=DT).view(1, 3, 1, 1)
        views_1 = base + noise * torch.randn(steps, 3, n, c, generator=g, dtype=DT)
        views_2 = base + noise * torch.randn(steps, 3, n, c, generator=g, dtype=DT)
        w = torch.full((3,), 1.0 / 3.0, dtype=DT)
        reference = torch.nn.Parameter(w.clone())
        optimizer = torch.optim.SGD([reference], lr=lr, momentum=0.9, weight_decay=5e-4,
                                    nesterov=True)
        buf = None
        tensors = {"views_1": views_1, "views_2": views_2, "w_init": w.clone()}
        scalars = {"lr": lr, "momentum": 0.9, "weight_decay": 5e-4}
        for step in range(steps):
            x = w.clone().requires_grad_(True)
            a = torch.exp(x) / torch.exp(x).sum()
            z1 = sum(a[e] * views_1[step, e] for e in range(3))
            z2 = sum(a[e] * views_2[step, e] for e in range(3))
            p1, p2 = F.softmax(z1, dim=1), F.softmax(z2, dim=1)
            cos = (p1 * p2).sum(1) / (p1.norm(dim=1) * p2.norm(dim=1))
            assert torch.allclose(cos, F.cosine_similarity(p1, p2, dim=1, eps=1e-6), rtol=1e-12)
            loss = -cos.mean()
            loss.backward()
            grad = x.grad.detach()
            w, buf = sgd_nesterov_step(w, grad, buf, lr, 0.9, 5e-4)

            optimizer.zero_grad()
            a_ref = F.softmax(reference, dim=0)
            z1r = sum(a_ref[e] * views_1[step, e] for e in range(3))
            z2r = sum(a_ref[e] * views_2[step, e] for e in range(3))
            (-F.cosine_similarity(F.softmax(z1r, 1), F.softmax(z2r, 1), dim=1, eps=1e-6).mean()).backward()
            optimizer.step()
            assert torch.allclose(reference.detach(), w, rtol=1e-12, atol=1e-15)

            scalars[f"loss_{step}"] = loss.item()
            tensors[f"grad_{step}"] = grad
            tensors[f"w_{step}"] = w.clone()
            tensors[f"a_{step}"] = torch.exp(w) / torch.exp(w).sum()
        cases.append(case(name, {"steps": steps}, tensors, scalars))
    return cases


if __name__ == "__main__":
    write_goldens(sys.argv[1:], GENERATORS, "tests/golden/make_goldens_wave2.py")
