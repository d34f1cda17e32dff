"""Reading a published disclosure (部门预算公开) into the ledger's commands."""
