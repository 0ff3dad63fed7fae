"""What web/studio_views.py still imports from here while the engrave pages move to web/engrave/; nothing else
should. The pages are in the area packages (web/<area>/views.py), the shared helpers in web/shared.py."""

from intaglio.web.jobs.presenters import STATE_DISPLAY
from intaglio.web.shared import fragment_login_required

__all__ = ["STATE_DISPLAY", "fragment_login_required"]
