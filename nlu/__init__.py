"""Training-side code of the local intent classifier: data loading, the held-back split, training.

Runtime inference lives in `providers.intent_classifier` and needs numpy only; this package
also needs scikit-learn (a dev dependency).
"""
