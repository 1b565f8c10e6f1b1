"""The ecosystem matrix: ``adamproofs check`` over many libraries' Adam implementations.

A TOML file (:mod:`.config`; the shipped ``ecosystem.toml`` by default) lists the
implementations and the pip spec of each library. :mod:`.envs` builds one virtual environment
per library; :mod:`.cells` expands the run into cells (a fingerprint per implementation and
dtype, and a property check per implementation, dtype, property and seed, which depends on its
fingerprint); :mod:`.schedule` runs the cells on ``dask.distributed``, each in a process of its
library's environment (:mod:`.child`) that :mod:`.processes` keeps per worker and
implementation; :mod:`.render` writes the JSON document and the Markdown page. :mod:`.cli`
is the ``adamproofs matrix`` command.
"""
