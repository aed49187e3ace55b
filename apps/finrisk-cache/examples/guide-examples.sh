#!/bin/sh
# Every command-line example of the FinRisk Cache Guide, in the guide's order, with
# `finrisk-cache` in place of `python scripts/cache_cli.py`. Run from this folder (it has
# data/customers.csv and data/transactions.csv). `pnpm demo` and the guide test run each line
# separately; `check` exits 3 when Redis is unreachable and the others then use the embedded store.

# Basic Commands
finrisk-cache --help
finrisk-cache check
finrisk-cache config
finrisk-cache stats

# Model Prediction Caching
finrisk-cache cache-pred CUST001 credit '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}'
finrisk-cache cache-pred CUST001 fraud '{"fraud_probability": 0.15, "risk_level": "low", "confidence": 0.88}'
finrisk-cache get-pred CUST001 credit
finrisk-cache get-pred CUST001 fraud

# Feature Caching
finrisk-cache cache-feat CUST001 '{"age": 35, "income": 75000, "credit_score": 720, "employment_years": 8}'
finrisk-cache get-feat CUST001

# DataFrame Caching
finrisk-cache cache-df customer_data data/customers.csv
finrisk-cache cache-df transaction_data data/transactions.csv --ttl 3600
finrisk-cache get-df customer_data
finrisk-cache get-df customer_data --output customers_export.csv

# Cache Management
finrisk-cache clear-model
finrisk-cache clear-model --model credit_risk
finrisk-cache clear-pred
finrisk-cache clear-pred --customer CUST001

# Monitoring and Maintenance
finrisk-cache stats
finrisk-cache check
finrisk-cache stats | grep "Hit Rate"
finrisk-cache config

# Troubleshooting: Connection Failed
finrisk-cache check
finrisk-cache config
