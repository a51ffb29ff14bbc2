"""Named exceptions of the Rapport domain."""


class RapportError(Exception):
    """Base class of every error Rapport raises on purpose."""


class ContentError(RapportError):
    """The shop's question bank or vocabulary is invalid."""


class UnknownQuestion(RapportError):
    """A question id that is not in the question bank."""


class PersonNotFound(RapportError):
    """No person matches the given id or channel identity."""


class InvalidReference(RapportError):
    """A person reference that is neither an id nor `channel:external_id`."""
