"""A realistic, repeatable demo data set (``python manage.py load_demo``)."""
