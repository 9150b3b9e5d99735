"""Who may see what on one route, as data: the roles that see every resource, those that see
their own branch's, and those that see only their own person's (docs/http.md, "Roles": a token
may hold several roles, and each grants only its own rights).

A route declares one :class:`Audience`; its role gate is :meth:`Audience.gate` (the roles it
names, nothing else), and what a caller may see is the union of what each of its roles grants
there. A role the audience does not name grants nothing on that route, whatever it grants
elsewhere: a clerk who is also a trainer sees only its own branch's grades, since trainers read
no grades. Usage::

    GRADE = Audience(everything={Role.MANAGEMENT}, own_branch={Role.BRANCH_CLERK},
                     themselves={Role.TRAINEE})
    Reader = Annotated[Principal, Depends(GRADE.gate())]
    if not GRADE.sees(principal, branch_id=trainee.branch_id, person_id=trainee_id): 404
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.auth import BearerPrincipal, Principal, require_roles
from shared.problems import forbidden


def _roles(roles: Iterable[str]) -> frozenset[str]:
    return frozenset(str(r) for r in roles)


@dataclass(frozen=True, init=False)
class Audience:
    """The roles a route admits, by what each may see there."""

    everything: frozenset[str]
    own_branch: frozenset[str]
    themselves: frozenset[str]

    def __init__(
        self,
        *,
        everything: Iterable[str] = (),
        own_branch: Iterable[str] = (),
        themselves: Iterable[str] = (),
    ) -> None:
        object.__setattr__(self, "everything", _roles(everything))
        object.__setattr__(self, "own_branch", _roles(own_branch))
        object.__setattr__(self, "themselves", _roles(themselves))

    @property
    def roles(self) -> frozenset[str]:
        """Every role the route admits."""
        return self.everything | self.own_branch | self.themselves

    def gate(self) -> BearerPrincipal:
        """The route's dependency: 401 without a valid token, 403 without one of :attr:`roles`."""
        return require_roles(*sorted(self.roles))

    def sees(self, principal: Principal, *, branch_id: str | None, person_id: str | None) -> bool:
        """True when one of the caller's roles grants it the resource of ``person_id`` (a trainee,
        an employee) in ``branch_id``."""
        held = principal.roles
        return bool(
            held & self.everything
            or (held & self.own_branch and principal.acts_for_branch(branch_id))
            or (held & self.themselves and person_id is not None and principal.sub == person_id)
        )

    def branch_of_list(self, principal: Principal, asked: str | None) -> str | None:
        """The branch a list or board is limited to (None: every branch). A caller seeing only
        its own branch gets it, and 403 when it asks for another."""
        if principal.roles & self.everything:
            return asked
        own = principal.branch_id
        if not principal.roles & self.own_branch or own is None or asked not in (None, own):
            raise forbidden("a branch-bound role reads its own branch only")
        return own
