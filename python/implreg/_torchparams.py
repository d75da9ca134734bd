"""_torchparams.py — which parameters of a torch model an operator works
on, for implreg.torch's hessian and igr: given as names or as the
caller's parameter objects, resolved to names before the model is copied
(so that they name the same tensors in the copy)."""


def select(model, params, who):
    """The set of parameter names params= picks in model (None: all).
    ValueError, prefixed with who, for a name or object not the model's."""
    if params is None:
        return None
    own = dict(model.named_parameters())
    names = set()
    for p in params:
        if isinstance(p, str):
            if p not in own:
                raise ValueError("%s: no parameter named %r" % (who, p))
            names.add(p)
        else:
            hit = [k for k, q in own.items() if q is p]
            if not hit:
                raise ValueError("%s: a parameter in params= is not one of "
                                 "the model's" % who)
            names.add(hit[0])
    return names
