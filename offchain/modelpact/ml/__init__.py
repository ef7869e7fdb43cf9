"""Machine learning for modelpact: datasets as integer rows, training and safe model files,
learned accuracy curves, and reward models on target.

Pure core: no web3, no CLI libraries. Submodules are imported explicitly
(``from modelpact.ml import datasets``) so importing the package stays cheap.
"""

from __future__ import annotations
