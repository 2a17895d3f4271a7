"""Repository-level pytest configuration.

The fsconformance plugin itself is loaded through its ``pytest11`` entry point once the
package is installed (``pip install -e .``); this file only adds what the self-tests need.
"""

pytest_plugins = ["pytester"]
