-- Debit: a buy, judged by judge_buy (domain.JudgeBuy) against the user's
-- credit and position, written with its pending order in one step. Keys,
-- arguments and replies: see trade.lua.
return trade(judge_buy)
