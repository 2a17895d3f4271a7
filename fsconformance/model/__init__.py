"""What Feature Store means: its rules and state machines, in pure Python with no I/O.

The emulator serves this model over moto; property tests use it as an oracle.
"""
