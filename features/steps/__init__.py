"""Step definitions of the budget-rule scenarios (features/*.feature), in Chinese as the
scenarios read. The modules here drive the real application (ledger.application.Ledger);
features/conftest.py makes their steps visible to every scenario."""
