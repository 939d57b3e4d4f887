"""The district view: every school of the deployment side by side, aggregates only."""
