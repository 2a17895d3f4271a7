"""Repository-level pytest configuration.

The fsconformance plugin's entry point is loaded through its ``pytest11`` entry point once the
package is installed (``pip install -e .``). This checkout's runs are conformance runs, so the
conformance plugin is loaded here too: ``pytest --backend=moto`` (the suites and the
self-tests) has the backends' options, the header lines, expectations files, the report's
properties and the hypothesis profiles, as ``fsconformance run`` has for the packaged suites.
``pytester`` is for the self-tests of the plugin.
"""

pytest_plugins = ["pytester", "fsconformance.harness.conformance"]
