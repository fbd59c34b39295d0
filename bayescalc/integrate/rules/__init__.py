"""Quadrature and cubature rules, and the loops that refine them.

One file a rule or rule helper; the public integrators at the top of
:mod:`bayescalc.integrate` (``quad``, ``cubature``, ``gauss_hermite_expectation``) pick
and wire them:

- ``gauss_kronrod``: G10/K21 and G7/K15 on subintervals (QUADPACK ``qk21``, ``qag``)
- ``qags``: Gauss–Kronrod bisection with Wynn's ε-extrapolation (``wynn``)
- ``tanh_sinh``: double exponential quadrature for endpoint singularities
- ``doubling_rules``: composite Simpson and Gauss–Legendre with step doubling
- ``weights``: weight functions of ``quad(..., weight=)`` (QUADPACK ``qawo``, ``qaws``, ...)
- ``range_maps``: infinite ranges mapped onto finite ones, the wrapped integrand
- ``tails``: the part of an infinite range the maps leave out, measured
- ``genz_malik``: adaptive degree-7/5 cubature on boxes
- ``sparse_grid``: dimension-adaptive Clenshaw–Curtis sparse grids
- ``smolyak``: Smolyak combination grids and tensor grids of any 1-D rule
- ``tensor_rule``: tensor Gauss–Legendre with order doubling
- ``scaled``: sums kept as ``exp(shift) * total`` for ``log=True``

Sibling packages import from the module that holds a name
(``from bayescalc.integrate.rules.smolyak import sparse_grid``): this package re-exports
nothing, so no function shadows a module of it (``sparse_grid`` the function and
``sparse_grid`` the module).
"""
