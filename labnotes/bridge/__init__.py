"""The reference bridge client: balance lines and plate-reader files to Vivolog's instrument API.

Standard library only, so it runs on the lab PC next to the balance with nothing but Python
3.11: ``python -m labnotes.bridge --help``. It never imports Django.
"""
