"""The developer's commands that are not part of the product: ``run.py`` (``make run``) and
the ``runner`` package it is made of. A package so that the tests import ``scripts.runner``."""
