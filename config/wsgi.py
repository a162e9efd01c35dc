import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

import featureflags  # noqa: E402  (after Django is set up)

# Under gunicorn --preload the workers fork from here: they inherit a loaded snapshot.
featureflags.warm_up()
