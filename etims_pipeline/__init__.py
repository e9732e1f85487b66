"""etims_pipeline: KRA eTIMS invoice submission and vendor KPIs as a Dagster asset pipeline."""
