"""The Spark cell (tox -e spark): see conftest.py."""
