"""The fuzzer's quality suite: realistic Paxos bugs it must find (paxos_mutants.py)
and the tests that prove it does, and that a weakened fuzzer would not."""
