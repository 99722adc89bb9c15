from fastapi import APIRouter

from tac_api.errors import COMMON_PROBLEMS

router = APIRouter(tags=["Transfers"], responses=COMMON_PROBLEMS)
