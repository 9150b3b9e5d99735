"""The four Gradeline services. A service never imports another service's package."""
