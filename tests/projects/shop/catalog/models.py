"""The migrations are what the tests exercise; the models stay out of their way."""
