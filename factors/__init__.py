"""The published factor and rate files, as package data of ``ccf.factors``, byte-identical to their
publishers' releases (README.md). No code lives here; the files are found through ccf.dsl.resources."""
