"""The data plane: sample records, shard writers and readers for files, WebDataset and Parquet."""
