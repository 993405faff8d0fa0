"""Load tests: Locust users of weAlist, latency budgets and the gate, capacity search.

Locust runs in its own process and environment (``import locust`` monkeypatches the
process, and the package registers a pytest plugin): only ``locustfile.py`` and
``loadtests.users`` import it. The rest (stack, seed, gate, reports) is plain Python.
"""
