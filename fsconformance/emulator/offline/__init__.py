"""The offline store: replication of accepted rows to S3 and the Glue tables over them."""
