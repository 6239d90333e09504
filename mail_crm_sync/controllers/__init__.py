from . import main, oauth, timeline
