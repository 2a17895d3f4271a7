"""Self-tests of the backends: aws, endpoint, moto-plain, and the capabilities they report."""
