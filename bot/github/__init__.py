"""The GitHub side: the event and inputs the runner gives, and where the review is published.

``action`` is the ``github`` command; ``event`` reads the runner's variables; ``publish`` posts
the sticky ``comment`` and the ``checks`` run through the PyGithub ``client``; ``annotations``
and ``workflow`` speak to the runner itself (workflow commands, outputs, job summary).
"""
