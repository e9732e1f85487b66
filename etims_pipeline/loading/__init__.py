"""Loading organisations and invoices from JSON Lines into the operational store, and the demo data set.

Call `load_orgs_file` / `load_invoices_file` to load, `generate_demo_data` to write the demo files.
The row formats are documented in docs/data-format.md.
"""

from etims_pipeline.loading.demo import DemoFiles, generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.loading.report import LoadReport, RowError

__all__ = [
    "DemoFiles",
    "LoadReport",
    "RowError",
    "generate_demo_data",
    "load_invoices_file",
    "load_orgs_file",
]
