"""The S3 storage backend: ``client`` (the only boto3 user), ``store`` (operations + cache), ``io``."""
