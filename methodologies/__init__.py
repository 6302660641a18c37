"""The shipped methodology library, as package data of ``ccf.methodologies``: activity types,
methodology versions, published.lock and the sample company's data. No code lives here; the files
are found through ccf.dsl.resources."""
