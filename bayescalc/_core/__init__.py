"""Shared conventions every bayescalc module follows.

One place for: the frozen result objects and their repr (:mod:`.result`), the warning
classes (:mod:`.warnings`), input validation (:mod:`.validation`), evaluating a user
callable on a batch of points (:mod:`.batch`), seeds (:mod:`.random`), converting
results back to the array kind that went in (:mod:`.arraykind`) and progress bars
(:mod:`.progress`). Private: the public names are re-exported where users need them.
"""
