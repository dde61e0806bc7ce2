"""gunicorn settings, for `gunicorn` run in this folder (`make serve`, the container): the
package's own, image_insights/serving/gunicorn_config.py."""

from image_insights.serving.gunicorn_config import *  # noqa: F403
