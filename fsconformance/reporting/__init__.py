"""Reading runs: the conformance report, the scoreboard, the ledger of UNCERTAIN clauses, the
contract page their clause ids link to, and their HTML templates."""
