"""Studies: the paper's results reproduced, and parameter sweeps of one's own.

Pure core (no web3, no CLI library): the complete-information contract (:mod:`.complete`), one
grid point solved and compared with it (:mod:`.point`), the grid engine with resumable JSON Lines
output and local or Dask workers (:mod:`.grid`), the paper's two studies (:mod:`.paper`), the
comparison with published values (:mod:`.reference`), figures (:mod:`.figures`) and the
one-command reproduction (:mod:`.reproduce`).
"""

from __future__ import annotations
