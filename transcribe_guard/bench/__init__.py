"""Scale and cost benchmark: our incremental rules against a naive rdklib baseline, on the
in-process simulator. ``python -m transcribe_guard.bench [--quick] [--output build/bench.json]``
(``make bench`` runs the full configuration). See docs/running-at-scale.md."""
