"""modelpact: optimal contracts for collaborative machine learning, executed on an Ethereum chain.

Participants are paid with models instead of money. The pure core (economics, optimizer,
encodings, audit rules) lives in modules that import neither web3 nor the CLI library; the chain
adapter and the command-line interface are thin shells over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
