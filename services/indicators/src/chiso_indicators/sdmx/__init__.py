"""SDMX 2.1 REST: one dataflow over the observations, in SDMX-ML, SDMX-JSON and SDMX-CSV."""
