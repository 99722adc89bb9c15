from typing import Literal, get_args

# The recorded outcomes a unit cost can be set for, as Step Together's evaluation estimated costs
# avoided: a woman whose children are still with her at her 12-month review, and a baby kept
# (born while she was supported, and gone home with her).
CostedOutcome = Literal["child_with_her_at_twelve_months", "baby_kept"]
COSTED_OUTCOMES: tuple[str, ...] = get_args(CostedOutcome)
