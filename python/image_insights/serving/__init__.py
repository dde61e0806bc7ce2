"""How the service is served: the gunicorn worker class that gunicorn.conf.py selects."""
