"""DHIS2-style dataValueSets: flat export and import with an import summary."""
