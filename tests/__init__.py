"""The self-tests of fsconformance: model, emulator, harness, backends and system (slow)."""
