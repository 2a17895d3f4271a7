"""The pytest face: the plugin's entry point, the conformance run, markers and expectations,
the run summary, snapshots, and ``fsconformance run``. Reports live in ``reporting``, the
suites' strategies and oracle in ``testing``, the user library one level up."""
