"""Experiments: exposures, goals, results with statistics, and user feedback.

    featureflags.variant("checkout", request)            # records the exposure (once per unit)
    featureflags.track("purchase", request, value=39.9)   # a conversion in every running experiment
    featureflags.feedback("checkout", request, rating=4, text="Faster!")

Exposures and conversions are queued in-process and sent to Redis by a
background thread (:mod:`.flusher`); :mod:`.results` reads them back and
:mod:`.stats` computes the tests. This package's ``__init__`` imports nothing:
``featureflags.decisions`` imports :mod:`.exposures` on the hot path.
"""
