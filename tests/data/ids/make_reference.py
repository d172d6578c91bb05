"""P-IDS / U-IDS and the linear SVM as co-mod-gan computes them (scikit-learn's
LinearSVC(dual=False), metrics/inception_discriminative_score.py) on three small feature sets,
stored in reference.json for tests/test_set_metrics.py.

Needs scikit-learn, which the project does not depend on:
    python -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn
    /tmp/sk/bin/python tests/data/ids/make_reference.py
"""

import json
from pathlib import Path

import numpy as np
from sklearn.svm import LinearSVC

rng = np.random.default_rng(0)
out = {}
for name, shift in [("overlap", 0.3), ("separable", 4.0), ("identical", 0.0)]:
    real = rng.normal(size=(60, 6))
    filled = real.copy() if name == "identical" else rng.normal(size=(60, 6)) + shift * np.eye(6)[0]
    x, y = np.concatenate([real, filled]), np.array([1] * 60 + [0] * 60)
    svm = LinearSVC(dual=False, tol=1e-8).fit(x, y)
    scores_real, scores_filled = svm.decision_function(real), svm.decision_function(filled)
    out[name] = {"real": real.tolist(), "filled": filled.tolist(), "w": svm.coef_[0].tolist(),
                 "b": float(svm.intercept_[0]), "p_ids": float(np.mean(scores_filled > scores_real)),
                 "u_ids": float(1 - svm.score(x, y))}
(Path(__file__).parent / "reference.json").write_text(json.dumps(out) + "\n")
