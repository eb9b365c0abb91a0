"""chiso's common library: the contracts and plumbing every service shares.

Only infrastructure and the cross-service contract live here (the fact schema, the error
envelope, request ids, logging, HTTP clients, database helpers); no service's domain logic.
"""
