"""Placeholder until written."""


def register(cli):  # noqa: ANN001, ANN201
    pass
