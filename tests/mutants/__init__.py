"""Deliberately wrong variants of Paxos, each a small override of
:class:`paxsim.protocols.paxos.Paxos`. The fuzzer must catch every one of them
(tests/test_mutants.py): a fuzzer that cannot find a planted bug proves nothing
when it finds none in the real protocol.

Load one with ``--protocol tests.mutants.paxos_mutants:ClassName`` (run from the
repository root, with the root on PYTHONPATH).
"""
