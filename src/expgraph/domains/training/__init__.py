"""ML training: experiments that train a model over a dataset."""
