"""chiso command line."""
