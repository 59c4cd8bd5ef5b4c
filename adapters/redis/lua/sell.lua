-- Sell: a sale, judged by judge_sale (domain.JudgeSale) against the
-- user's position and credit, written with its pending order in one step.
-- Keys, arguments and replies: see trade.lua.
return trade(judge_sale)
