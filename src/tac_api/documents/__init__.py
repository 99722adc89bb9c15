"""Papers a court can read: the evidence bundle and her chronology as printable documents.

One module for both: `page` builds the document (its header, its tables, its print style) with
every value escaped on its way in; `answer` decides what the caller asked for (JSON, HTML or
PDF), renders the PDF from the same HTML, and sends it with its headers.
"""
