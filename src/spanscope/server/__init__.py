"""``spanscope serve``: receivers -> pipeline -> store, and the query API and pages over it.

See ``app.py`` for how the parts are started and stopped, ``pipeline.py`` for the write contract.
"""
