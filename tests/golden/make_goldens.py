#!/usr/bin/env python3
"""Reference values for tailor's numerical tests, computed with PyTorch's Python API.

Each generator below builds fixed inputs from a seeded generator, evaluates the reference
definition (PyTorch's own functional where one exists, else the formula of the paper or the
official code, cited), and records inputs, the loss and the gradient w.r.t. the logits.
Run with Debian's /usr/bin/python3 (python3-torch); writes tests/golden/data/<name>.json.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATORS = {}


def generator(fn):
    GENERATORS[fn.__name__] = fn
    return fn


def tensor_json(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int64", "data": t.reshape(-1).tolist()}
    return {"shape": list(t.shape), "dtype": "float64", "data": t.double().reshape(-1).tolist()}


def case(name, options, tensors, scalars, context=None):
    c = {
        "name": name,
        "options": options,
        "tensors": {k: tensor_json(v) for k, v in tensors.items()},
        "scalars": {k: float(v) for k, v in scalars.items()},
    }
    if context is not None:  # what the loss is built for: class counts, measured accuracies
        c["context"] = context
    return c


def inputs(seed, n=8, c=5, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, c, generator=g, dtype=torch.float64) * scale)
    targets = torch.randint(0, c, (n,), generator=g)
    return logits, targets


def loss_and_grad(fn, logits):
    x = logits.clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    return loss.detach(), x.grad.detach()


@generator
def ce():
    """Cross-entropy: torch.nn.functional.cross_entropy is the reference."""
    cases = []
    logits, targets = inputs(0)
    weights = torch.tensor([0.5, 1.0, 2.0, 0.25, 3.0], dtype=torch.float64)
    variants = [
        ("plain_mean", {}, dict()),
        ("plain_sum", {"reduction": "sum"}, dict(reduction="sum")),
        ("smoothing", {"label_smoothing": 0.1}, dict(label_smoothing=0.1)),
        ("weighted_mean", {"class_weights": weights.tolist()}, dict(weight=weights)),
        ("weighted_sum", {"class_weights": weights.tolist(), "reduction": "sum"},
         dict(weight=weights, reduction="sum")),
        ("weighted_smoothing", {"class_weights": weights.tolist(), "label_smoothing": 0.2},
         dict(weight=weights, label_smoothing=0.2)),
    ]
    for name, options, kwargs in variants:
        loss, grad = loss_and_grad(lambda x: F.cross_entropy(x, targets, **kwargs), logits)
        cases.append(case(name, options, {"logits": logits, "targets": targets, "grad": grad},
                          {"loss": loss}))
    # batch_mean: sum_i w_{y_i} l_i / N (the CB/CDB reduction), written out.
    def batch_mean(x):
        per = F.cross_entropy(x, targets, weight=weights, reduction="none")
        return per.sum() / x.shape[0]
    loss, grad = loss_and_grad(batch_mean, logits)
    cases.append(case("weighted_batch_mean",
                      {"class_weights": weights.tolist(), "reduction": "batch_mean"},
                      {"logits": logits, "targets": targets, "grad": grad}, {"loss": loss}))
    return cases


# ---------------------------------------------------------------------------------------
# Long-tail losses. Each reference is written from the formula in
# /work/shared/reference/methods.md and the official code it cites, in float64.
# ---------------------------------------------------------------------------------------

# A long-tailed count vector for five classes (head to tail, ratio ~167).
LT_COUNTS = [500, 120, 40, 10, 3]


def reduce_weighted(per_sample, w_y, reduction):
    """mean: sum w_y l / sum w_y (PyTorch's weighted mean); batch_mean: / N; sum."""
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "batch_mean":
        return per_sample.sum() / per_sample.shape[0]
    return per_sample.sum() / w_y.sum()


def effective_number_weights(counts, beta):
    """Cui et al. 2019, eq. of section 3: (1-beta)/(1-beta^n), normalised to sum C
    (richardaecn/class-balanced-loss:src/cifar_main.py)."""
    n = torch.tensor(counts, dtype=torch.float64)
    w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return w / w.sum() * len(counts)


def tf_sigmoid_focal(labels, logits, alpha, gamma):
    """richardaecn/class-balanced-loss:src/cifar_main.py::focal_loss, transcribed to torch:
    modulator exp(-g*y*z - g*log1p(exp(-z))), alpha per example (tiled over classes),
    normalised by the number of positive labels."""
    ce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    if gamma == 0.0:
        modulator = 1.0
    else:
        modulator = torch.exp(-gamma * labels * logits - gamma * torch.log1p(torch.exp(-logits)))
    loss = modulator * ce
    weighted = alpha * loss
    return weighted.sum() / labels.sum()


@generator
def focal():
    """Focal loss (Lin et al., ICCV 2017). Softmax form as kaidic/LDAM-DRW:losses.py
    ((1 - exp(-CE))^g * CE) with class weights outside the modulator; sigmoid form as the
    CB official code's one-vs-all focal loss, with Lin's alpha_t balance."""
    cases = []
    logits, targets = inputs(1)
    c = logits.shape[1]
    weights = torch.tensor([0.5, 1.0, 2.0, 0.25, 3.0], dtype=torch.float64)
    y = F.one_hot(targets, c).double()

    def softmax_focal(x, gamma, w, detach, reduction):
        ce = F.cross_entropy(x, targets, reduction="none")
        p = torch.exp(-ce)
        if detach:
            p = p.detach()
        per = (1.0 - p) ** gamma * ce
        w_y = w[targets] if w is not None else torch.ones_like(per)
        return reduce_weighted(w_y * per, w_y, reduction)

    def sigmoid_focal(x, gamma, alpha, w, detach, reduction):
        bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p = torch.sigmoid(x)
        p_t = p * y + (1.0 - p) * (1.0 - y)
        mod = (1.0 - p_t) ** gamma
        if detach:
            mod = mod.detach()
        per_elem = mod * bce
        if alpha is not None:
            per_elem = per_elem * (alpha * y + (1.0 - alpha) * (1.0 - y))
        per = per_elem.sum(1)
        w_y = w[targets] if w is not None else torch.ones_like(per)
        return reduce_weighted(w_y * per, w_y, reduction)

    w = weights.tolist()
    variants = [
        ("softmax_g0", {"form": "softmax", "gamma": 0.0}),
        ("softmax_g2", {"form": "softmax", "gamma": 2.0}),
        ("softmax_g05", {"form": "softmax", "gamma": 0.5}),
        ("softmax_g1_sum", {"form": "softmax", "gamma": 1.0, "reduction": "sum"}),
        ("softmax_g2_detach", {"form": "softmax", "gamma": 2.0, "detach_modulator": True}),
        ("softmax_g2_weighted_batch_mean", {"form": "softmax", "class_weights": w}),
        ("softmax_g2_weighted_mean", {"form": "softmax", "class_weights": w, "reduction": "mean"}),
        ("softmax_g2_weighted_sum", {"form": "softmax", "class_weights": w, "reduction": "sum"}),
        ("sigmoid_g0", {"form": "sigmoid", "gamma": 0.0}),
        ("sigmoid_g2", {"form": "sigmoid", "gamma": 2.0}),
        ("sigmoid_g05", {"form": "sigmoid", "gamma": 0.5}),
        ("sigmoid_g2_alpha", {"form": "sigmoid", "gamma": 2.0, "alpha": 0.25}),
        ("sigmoid_g2_detach", {"form": "sigmoid", "gamma": 2.0, "detach_modulator": True}),
        ("sigmoid_g1_weighted_batch_mean", {"form": "sigmoid", "gamma": 1.0, "class_weights": w}),
        ("sigmoid_g1_weighted_mean",
         {"form": "sigmoid", "gamma": 1.0, "class_weights": w, "reduction": "mean"}),
        ("sigmoid_g1_alpha_weighted_sum",
         {"form": "sigmoid", "gamma": 1.0, "alpha": 0.75, "class_weights": w, "reduction": "sum"}),
    ]
    for name, options in variants:
        # Unset options take the loss's documented defaults.
        gamma = options.get("gamma", 2.0)
        alpha = options.get("alpha")
        cw = torch.tensor(options["class_weights"], dtype=torch.float64) \
            if "class_weights" in options else None
        detach = options.get("detach_modulator", False)
        reduction = options.get("reduction", "batch_mean")
        if options["form"] == "softmax":
            fn = lambda x: softmax_focal(x, gamma, cw, detach, reduction)
        else:
            fn = lambda x: sigmoid_focal(x, gamma, alpha, cw, detach, reduction)
        loss, grad = loss_and_grad(fn, logits)
        cases.append(case(name, options, {"logits": logits, "targets": targets, "grad": grad},
                          {"loss": loss}))
    # LDAM-DRW's FocalLoss(weight=w, gamma) (kaidic/LDAM-DRW:losses.py), as its code reads:
    # the per-sample CE is computed with PyTorch's class weight, so it is w_y CE_i, and that
    # weighted value is both the "-log p" of the focal term and the p = exp(-w_y CE_i) of its
    # modulator; the result is a plain mean over the batch.
    def ldam_drw_focal(x, gamma, w, detach, reduction):
        wce = F.cross_entropy(x, targets, weight=w, reduction="none")
        p = torch.exp(-wce)
        if detach:
            p = p.detach()
        per = (1.0 - p) ** gamma * wce
        if reduction == "batch_mean":
            return per.mean()
        w_y = w[targets] if w is not None else torch.ones_like(per)
        return reduce_weighted(per, w_y, reduction)

    drw = effective_number_weights(LT_COUNTS, 0.9999)  # the DRW stage's weights
    official = {"form": "softmax", "weight_mode": "official_ldam_drw"}
    ldam_variants = [
        ("softmax_g1_official_ldam_drw", {**official, "gamma": 1.0, "class_weights": drw.tolist()}),
        ("softmax_g2_official_ldam_drw", {**official, "class_weights": w}),
        ("softmax_g05_official_ldam_drw_sum",
         {**official, "gamma": 0.5, "class_weights": drw.tolist(), "reduction": "sum"}),
        ("softmax_g2_official_ldam_drw_mean", {**official, "class_weights": w, "reduction": "mean"}),
        ("softmax_g1_official_ldam_drw_detach",
         {**official, "gamma": 1.0, "class_weights": w, "detach_modulator": True}),
        ("softmax_g1_official_ldam_drw_unweighted", {**official, "gamma": 1.0}),
    ]
    for name, options in ldam_variants:
        gamma = options.get("gamma", 2.0)
        cw = torch.tensor(options["class_weights"], dtype=torch.float64) \
            if "class_weights" in options else None
        detach = options.get("detach_modulator", False)
        reduction = options.get("reduction", "batch_mean")
        loss, grad = loss_and_grad(lambda x: ldam_drw_focal(x, gamma, cw, detach, reduction),
                                   logits)
        cases.append(case(name, options, {"logits": logits, "targets": targets, "grad": grad},
                          {"loss": loss}))
    # Without class weights the official form is the plain softmax focal loss.
    a = ldam_drw_focal(logits, 1.0, None, False, "batch_mean")
    b = softmax_focal(logits, 1.0, None, False, "batch_mean")
    assert torch.allclose(a, b, rtol=1e-14), (a, b)
    # With them it is not: the weights move into the modulator.
    a = ldam_drw_focal(logits, 2.0, weights, False, "batch_mean")
    b = softmax_focal(logits, 2.0, weights, False, "batch_mean")
    assert not torch.allclose(a, b, rtol=1e-3), (a, b)
    # The CB code's exp-form modulator equals (1 - p_t)^g: cross-check the two references.
    for gamma in (0.5, 2.0):
        a = sigmoid_focal(logits, gamma, None, None, False, "batch_mean")
        b = tf_sigmoid_focal(y, logits, torch.ones(logits.shape[0], 1, dtype=torch.float64), gamma)
        assert torch.allclose(a, b, rtol=1e-12), (a, b)
    return cases


@generator
def class_balanced():
    """Class-Balanced loss (Cui et al., CVPR 2019), as richardaecn/class-balanced-loss:
    src/cifar_main.py::_tower_fn computes it. batch_mean is the official reduction (TF
    softmax_cross_entropy's SUM_BY_NONZERO_WEIGHTS; sigmoid/focal divide by the number of
    positive labels); mean is PyTorch's weighted mean."""
    cases = []
    logits, targets = inputs(2)
    c = logits.shape[1]
    y = F.one_hot(targets, c).double()

    def cb(x, base, beta, gamma, reduction):
        w = effective_number_weights(LT_COUNTS, beta)
        w_y = w[targets]
        if reduction == "batch_mean":
            if base == "softmax":
                per = F.cross_entropy(x, targets, reduction="none")
                return (w_y * per).sum() / (w_y != 0).sum()
            if base == "sigmoid":
                elem = w_y[:, None] * F.binary_cross_entropy_with_logits(x, y, reduction="none")
                return elem.sum() / y.sum()
            return tf_sigmoid_focal(y, x, w_y[:, None], gamma)
        if base == "softmax":
            per = F.cross_entropy(x, targets, reduction="none")
        else:
            bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
            if base == "focal" and gamma > 0:
                p = torch.sigmoid(x)
                p_t = p * y + (1.0 - p) * (1.0 - y)
                bce = (1.0 - p_t) ** gamma * bce
            per = bce.sum(1)
        return reduce_weighted(w_y * per, w_y, reduction)

    variants = [
        ("softmax_b9999", "softmax", 0.9999, 1.0, "batch_mean"),
        ("softmax_b99_mean", "softmax", 0.99, 1.0, "mean"),
        ("softmax_b9_sum", "softmax", 0.9, 1.0, "sum"),
        ("softmax_b0", "softmax", 0.0, 1.0, "batch_mean"),
        ("sigmoid_b999", "sigmoid", 0.999, 1.0, "batch_mean"),
        ("sigmoid_b999_mean", "sigmoid", 0.999, 1.0, "mean"),
        ("focal_b9999_g1", "focal", 0.9999, 1.0, "batch_mean"),
        ("focal_b9_g05", "focal", 0.9, 0.5, "batch_mean"),
        ("focal_b999_g2_mean", "focal", 0.999, 2.0, "mean"),
        ("focal_b99_g0_sum", "focal", 0.99, 0.0, "sum"),
    ]
    for name, base, beta, gamma, reduction in variants:
        options = {"base": base, "beta": beta, "gamma": gamma, "reduction": reduction}
        loss, grad = loss_and_grad(lambda x: cb(x, base, beta, gamma, reduction), logits)
        cases.append(case(name, options,
                          {"logits": logits, "targets": targets, "grad": grad,
                           "weights": effective_number_weights(LT_COUNTS, beta)},
                          {"loss": loss}, context={"class_counts": LT_COUNTS}))
    return cases


def cdb_weights(accuracy, tau_mode, tau, eps=0.01, min_difficulty=0.0):
    """hitachi-rd-cv/CDB-loss: ImageNet-LT/loss/CDBSoftmaxLoss.py (dynamic: 2*sigmoid(r-1))
    and CIFAR-LT/losses/cdb_loss.py (dynamic_v1: sigmoid(r)), r = max A / (min A + eps);
    w = (1 - A)^tau normalised to sum C. The floor and the all-zero fallback are the
    platform's documented options."""
    a = torch.tensor(accuracy, dtype=torch.float64)
    if tau_mode == "dynamic":
        tau = 2.0 * torch.sigmoid(a.max() / (a.min() + eps) - 1.0).item()
    elif tau_mode == "dynamic_v1":
        tau = torch.sigmoid(a.max() / (a.min() + eps)).item()
    d = torch.clamp(1.0 - a, min=min_difficulty)
    w = d ** tau
    if w.sum() == 0:
        return torch.ones_like(w), tau
    return w / w.sum() * len(accuracy), tau


@generator
def cdb():
    """Class-wise Difficulty-Balanced loss (Sinha et al., ACCV 2020). CE base: PyTorch CE
    with class weights (CIFAR code: reduction none then mean = batch_mean; ImageNet-LT code:
    weighted mean = mean). Focal base: hitachi-rd-cv/CDB-loss:ImageNet-LT/loss/FocalLoss.py
    (sign-flipped logsigmoid, -(1-p_t)^g log p_t summed over classes, times w_y)."""
    cases = []
    logits, targets = inputs(3)
    c = logits.shape[1]
    solved = int(targets[0])  # a class present in the batch, measured at 100% accuracy
    acc = [0.62, 0.35, 0.08, 0.91, 0.5]
    acc_solved = list(acc)
    acc_solved[solved] = 1.0

    def cdb_loss(x, w, base, gamma, detach, reduction):
        if base == "ce":
            if reduction == "batch_mean":
                return F.cross_entropy(x, targets, weight=w, reduction="none").mean()
            return F.cross_entropy(x, targets, weight=w, reduction=reduction)
        signs = -torch.ones_like(x)
        signs[torch.arange(x.shape[0]), targets] = 1.0
        logpt = F.logsigmoid(x * signs)
        pt = logpt.exp()
        if detach:
            pt = pt.detach()
        per = (-1.0 * (1.0 - pt) ** gamma * logpt).sum(1)
        w_y = w[targets]
        return reduce_weighted(w_y * per, w_y, reduction)

    fixed = {"tau_mode": "fixed"}
    variants = [
        # name, options, measured accuracy (None: no measurement yet)
        ("unmeasured_uniform", {}, None),
        ("dynamic", {"tau_mode": "dynamic"}, acc),
        ("dynamic_v1", {"tau_mode": "dynamic_v1"}, acc),
        ("fixed_1p5", {**fixed, "tau": 1.5}, acc),
        ("fixed_0_is_ce", {**fixed, "tau": 0.0}, acc),
        ("fixed_1_mean", {**fixed, "tau": 1.0, "reduction": "mean"}, acc),
        ("dynamic_sum", {"reduction": "sum"}, acc),
        ("solved_class_zero_weight", {**fixed, "tau": 1.5}, acc_solved),
        ("solved_class_floor", {**fixed, "tau": 1.5, "min_difficulty": 0.001}, acc_solved),
        ("solved_class_dynamic_mean", {"reduction": "mean"}, acc_solved),
        ("all_solved_uniform", {}, [1.0] * c),
        ("focal_g2", {"base": "focal", "gamma": 2.0}, acc),
        ("focal_g1_detach", {"base": "focal", "gamma": 1.0, "detach_modulator": True}, acc),
        ("focal_g2_mean_tau3",
         {"base": "focal", "gamma": 2.0, "reduction": "mean", **fixed, "tau": 3.0}, acc),
        ("focal_g05_sum",
         {"base": "focal", "gamma": 0.5, "reduction": "sum", "tau_mode": "dynamic_v1"},
         acc_solved),
    ]
    for name, options, accuracy in variants:
        # Unset options take the loss's documented defaults.
        base = options.get("base", "ce")
        gamma = options.get("gamma", 2.0)
        detach = options.get("detach_modulator", False)
        reduction = options.get("reduction", "batch_mean")
        if accuracy is None:
            w = torch.ones(c, dtype=torch.float64)
        else:
            w, _ = cdb_weights(accuracy, options.get("tau_mode", "dynamic"),
                               options.get("tau", 1.5),
                               min_difficulty=options.get("min_difficulty", 0.0))
        loss, grad = loss_and_grad(lambda x: cdb_loss(x, w, base, gamma, detach, reduction),
                                   logits)
        context = {"class_counts": LT_COUNTS}
        if accuracy is not None:
            context["accuracy"] = accuracy
        cases.append(case(name, options,
                          {"logits": logits, "targets": targets, "grad": grad, "weights": w},
                          {"loss": loss}, context=context))
    return cases


def cosine_inputs(seed, n=8, c=5, d=16):
    """Cosine logits of a NormedLinear head (features and weights L2-normalised)."""
    g = torch.Generator().manual_seed(seed)
    f = torch.randn(n, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, c, generator=g, dtype=torch.float64)
    logits = F.normalize(f, dim=1) @ F.normalize(w, dim=0)
    targets = torch.randint(0, c, (n,), generator=g)
    return logits, targets


@generator
def ldam():
    """LDAM (Cao et al., NeurIPS 2019) exactly as kaidic/LDAM-DRW:losses.py::LDAMLoss, with
    DRW weights as its cifar_train.py (beta 0.9999 CB weights normalised to sum C, passed
    as PyTorch CE weight)."""
    cases = []
    logits, targets = cosine_inputs(4)

    def ldam_loss(x, max_m, s, weight, reduction):
        m_list = 1.0 / torch.sqrt(torch.sqrt(torch.tensor(LT_COUNTS, dtype=torch.float64)))
        m_list = m_list * (max_m / m_list.max())
        index = torch.zeros_like(x, dtype=torch.bool)
        index.scatter_(1, targets.view(-1, 1), True)
        batch_m = m_list[None, :] @ index.double().t()
        x_m = x - batch_m.view(-1, 1)
        output = torch.where(index, x_m, x)
        if reduction == "batch_mean":
            return F.cross_entropy(s * output, targets, weight=weight, reduction="none").mean()
        return F.cross_entropy(s * output, targets, weight=weight, reduction=reduction)

    drw = effective_number_weights(LT_COUNTS, 0.9999)
    drw99 = effective_number_weights(LT_COUNTS, 0.99)
    variants = [
        ("default", {}, 0.5, 30.0, None, "mean"),
        ("m03_s10", {"max_m": 0.3, "s": 10.0}, 0.3, 10.0, None, "mean"),
        ("sum", {"reduction": "sum"}, 0.5, 30.0, None, "sum"),
        ("drw_mean", {"reweight": True}, 0.5, 30.0, drw, "mean"),
        ("drw_batch_mean", {"reweight": True, "reduction": "batch_mean"},
         0.5, 30.0, drw, "batch_mean"),
        ("drw_b99_sum", {"reweight": True, "drw_beta": 0.99, "reduction": "sum"},
         0.5, 30.0, drw99, "sum"),
    ]
    for name, options, max_m, s, weight, reduction in variants:
        loss, grad = loss_and_grad(lambda x: ldam_loss(x, max_m, s, weight, reduction), logits)
        m_list = 1.0 / torch.tensor(LT_COUNTS, dtype=torch.float64) ** 0.25
        tensors = {"logits": logits, "targets": targets, "grad": grad,
                   "margins": m_list * (max_m / m_list.max())}
        if weight is not None:
            tensors["weights"] = weight
        cases.append(case(name, options, tensors, {"loss": loss},
                          context={"class_counts": LT_COUNTS}))
    return cases


@generator
def balanced_softmax():
    """Balanced Softmax (Ren et al., NeurIPS 2020): CE(z + log n, y), as
    jiawei-ren/BalancedMetaSoftmax-Classification's balanced_softmax_loss."""
    cases = []
    logits, targets = inputs(5)
    spc = torch.tensor(LT_COUNTS, dtype=torch.float64)
    for reduction in ("mean", "sum"):
        fn = lambda x: F.cross_entropy(x + spc.log().unsqueeze(0).expand(x.shape[0], -1),
                                       targets, reduction=reduction)
        loss, grad = loss_and_grad(fn, logits)
        cases.append(case(reduction, {"reduction": reduction},
                          {"logits": logits, "targets": targets, "grad": grad}, {"loss": loss},
                          context={"class_counts": LT_COUNTS}))
    return cases


@generator
def logit_adjustment():
    """Logit adjustment (Menon et al., ICLR 2021) as google-research/google-research:
    logit_adjustment/utils.py::build_loss_fn (loss mode) and main.py (post-hoc mode): the
    offset is log(pi^tau + 1e-12), pi the training prior."""
    cases = []
    logits, targets = inputs(6)
    pi = torch.tensor(LT_COUNTS, dtype=torch.float64)
    pi = pi / pi.sum()
    variants = [
        ("loss_tau1", {"mode": "loss", "tau": 1.0}, "loss", 1.0, "mean"),
        ("loss_tau05", {"mode": "loss", "tau": 0.5}, "loss", 0.5, "mean"),
        ("loss_tau2_sum", {"mode": "loss", "tau": 2.0, "reduction": "sum"}, "loss", 2.0, "sum"),
        ("posthoc_tau1", {"mode": "posthoc", "tau": 1.0}, "posthoc", 1.0, "mean"),
        ("posthoc_tau15_sum", {"mode": "posthoc", "tau": 1.5, "reduction": "sum"},
         "posthoc", 1.5, "sum"),
    ]
    for name, options, mode, tau, reduction in variants:
        offset = torch.log(pi ** tau + 1e-12)

        def fn(x):
            if mode == "loss":
                x = x + offset
            loss = F.cross_entropy(x, targets, reduction="none")
            return loss.sum() if reduction == "sum" else loss.mean(0)

        loss, grad = loss_and_grad(fn, logits)
        adjusted = logits - offset if mode == "posthoc" else logits
        cases.append(case(name, options, {"logits": logits, "targets": targets, "grad": grad,
                                          "adjusted": adjusted},
                          {"loss": loss}, context={"class_counts": LT_COUNTS}))
    return cases


def las_smoothing(counts, head, tail, shape, power=None):
    """ε_c of MiSLAS (dvlab-research/MiSLAS; hitachi-rd-cv/Difficulty_Net:
    ImageNet_Places-LT/methods.py::LabelAwareSmoothing)."""
    n = torch.tensor(counts, dtype=torch.float64)
    n_1, n_k = n.max(), n.min()
    x = (n - n_k) / (n_1 - n_k)
    if shape == "concave":
        return tail + (head - tail) * torch.sin(x * math.pi / 2)
    if shape == "linear":
        return tail + (head - tail) * x
    if shape == "convex":
        return head + (head - tail) * torch.sin(1.5 * math.pi + x * math.pi / 2)
    return tail + (head - tail) * torch.pow(x, power)


@generator
def label_aware_smoothing():
    """Label-aware smoothing (Zhong et al., CVPR 2021 "MiSLAS"; Difficulty-Net stage 2):
    (1 - ε_y) NLL + ε_y mean_j(-log p_j), batch mean."""
    cases = []
    logits, targets = inputs(7)
    variants = [
        ("concave", {}, 0.4, 0.1, "concave", None, "mean"),
        ("concave_04_0", {"eps_head": 0.4, "eps_tail": 0.0}, 0.4, 0.0, "concave", None, "mean"),
        ("linear", {"shape": "linear", "eps_head": 0.3, "eps_tail": 0.0},
         0.3, 0.0, "linear", None, "mean"),
        ("convex", {"shape": "convex"}, 0.4, 0.1, "convex", None, "mean"),
        ("exp_p3", {"shape": "exp", "power": 3.0}, 0.4, 0.1, "exp", 3.0, "mean"),
        ("concave_sum", {"reduction": "sum", "eps_head": 0.2, "eps_tail": 0.05},
         0.2, 0.05, "concave", None, "sum"),
    ]
    for name, options, head, tail, shape, power, reduction in variants:
        smooth = las_smoothing(LT_COUNTS, head, tail, shape, power)

        def fn(x):
            smoothing = smooth[targets]
            confidence = 1.0 - smoothing
            logprobs = F.log_softmax(x, dim=-1)
            nll = -logprobs.gather(dim=-1, index=targets.unsqueeze(1)).squeeze(1)
            smooth_loss = -logprobs.mean(dim=-1)
            loss = confidence * nll + smoothing * smooth_loss
            return loss.sum() if reduction == "sum" else loss.mean()

        loss, grad = loss_and_grad(fn, logits)
        cases.append(case(name, options, {"logits": logits, "targets": targets, "grad": grad,
                                          "smoothing": smooth},
                          {"loss": loss}, context={"class_counts": LT_COUNTS}))
    return cases


@generator
def vs_loss():
    """VS loss (Kini et al., NeurIPS 2021), written in the paper's form: CE(Delta * z + iota)
    with the multiplicative Delta_c = (n_c / n_max)^gamma and iota_c = tau log(n_c / N)
    (orparask/VS-Loss:class_imbalance/losses.py::VSLoss divides by 1 / Delta instead: the
    same function). DRW weights as train.py's per_cls_weights, passed as CE `weight`
    (mean: PyTorch's weighted mean); batch_mean is the paper's per-sample average."""
    cases = []
    logits, targets = inputs(7)
    n = torch.tensor(LT_COUNTS, dtype=torch.float64)
    variants = [
        ("default", {}),
        ("readme_g02_t12", {"gamma": 0.2, "tau": 1.2}),
        ("la_only_g0", {"gamma": 0.0, "tau": 1.0}),
        ("cdt_only_t0", {"gamma": 0.5, "tau": 0.0}),
        ("drw_mean", {"reweight": True}),
        ("drw_b99_batch_mean", {"reweight": True, "drw_beta": 0.99, "reduction": "batch_mean"}),
        ("drw_sum", {"gamma": 0.4, "tau": 0.5, "reweight": True, "reduction": "sum"}),
        ("plain_sum", {"reduction": "sum"}),
    ]
    for name, options in variants:
        gamma = options.get("gamma", 0.3)
        tau = options.get("tau", 1.0)
        reduction = options.get("reduction", "mean")
        delta = (n / n.max()) ** gamma
        iota = tau * torch.log(n / n.sum())
        w = effective_number_weights(LT_COUNTS, options.get("drw_beta", 0.9999)) \
            if options.get("reweight", False) else None

        def fn(x):
            per = F.cross_entropy(delta * x + iota, targets, reduction="none")
            w_y = w[targets] if w is not None else torch.ones_like(per)
            return reduce_weighted(w_y * per, w_y, reduction)

        loss, grad = loss_and_grad(fn, logits)
        tensors = {"logits": logits, "targets": targets, "grad": grad,
                   "inverse_scales": 1.0 / delta, "offsets": iota}
        if w is not None:
            tensors["weights"] = w
        cases.append(case(name, options, tensors, {"loss": loss},
                          context={"class_counts": LT_COUNTS}))
    return cases


def main(names, generators=GENERATORS, script="tests/golden/make_goldens.py"):
    """Runs `generators` (all, or those named) and writes data/<name>.json for each."""
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    torch.set_num_threads(1)
    for name in names or sorted(generators):
        cases = generators[name]()
        doc = {"generator": script, "torch": torch.__version__, "cases": cases}
        path = os.path.join(HERE, "data", name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main(sys.argv[1:])
