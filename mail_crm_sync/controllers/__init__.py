from . import gdpr, main, oauth, timeline
