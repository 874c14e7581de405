"""A refusal with a list of problems, each at a JSON pointer (definitions, run input)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workflows.problems import Problem


class ProblemPublic(BaseModel):
    pointer: str = Field(
        description="Where the problem is: a JSON pointer into the document ('/' is all of it)"
    )
    message: str
    line: int | None = Field(default=None, description="For syntax errors: the line in the text")
    column: int | None = None

    @classmethod
    def of(cls, problem: Problem) -> ProblemPublic:
        """The API's form of a compiler or schema problem."""
        return cls(pointer=problem.where, message=problem.message, line=problem.line, column=problem.column)


class ProblemsPublic(BaseModel):
    detail: str
    problems: list[ProblemPublic]
