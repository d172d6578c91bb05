"""Click commands: parse options, call a pipeline, print a summary."""
