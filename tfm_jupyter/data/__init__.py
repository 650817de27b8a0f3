"""Adapters for the data tools: an fsspec filesystem (pandas, pyarrow, polars, dask), pyarrow's
``filesystem=``, and SQL over S3 with DuckDB.  Importing this package imports none of them."""
