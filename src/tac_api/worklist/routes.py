from fastapi import APIRouter

from tac_api.errors import COMMON_PROBLEMS

router = APIRouter(tags=["Worklist"], responses=COMMON_PROBLEMS)
