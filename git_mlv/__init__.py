"""git-mlv: version machine-learning data and models inside git."""

__version__ = "0.1.0"
