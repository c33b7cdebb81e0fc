"""The dataset and what reads it: schema, figures as written, FX, quality checks, prices."""
