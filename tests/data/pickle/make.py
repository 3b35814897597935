"""Makes the pickles next to this script with the real scikit-learn and numpy (run once by hand:
`pip install scikit-learn`; the suite reads the files, it does not need scikit-learn). v1 and v2
are one logistic regression trained with C=1.0 and C=0.1; forest.pkl is a small random forest."""

import pickle

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
for name, c in (("v1.pkl", 1.0), ("v2.pkl", 0.1)):
    with open(name, "wb") as f:
        pickle.dump(LogisticRegression(C=c).fit(X, y), f)
with open("forest.pkl", "wb") as f:
    pickle.dump(RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y), f)
