"""The ``tastegraph`` command line. Operators script it: keep the spellings stable."""
