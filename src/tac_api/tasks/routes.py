from fastapi import APIRouter

from tac_api.errors import COMMON_PROBLEMS

router = APIRouter(tags=["Tasks"], responses=COMMON_PROBLEMS)
