from . import gdpr, main, oauth
