from fastapi import APIRouter

from tac_api.errors import COMMON_PROBLEMS

router = APIRouter(tags=["Flags for review"], responses=COMMON_PROBLEMS)
