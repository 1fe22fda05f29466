"""Pure science for Vivolog: numpy/scipy in, plain data out. Never imports Django.

Run any analysis from a CSV without a database: ``python -m labnotes.analysis <name> --input F``.
"""
