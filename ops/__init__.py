"""Operations tooling around the services (the ``gradeline`` command)."""
