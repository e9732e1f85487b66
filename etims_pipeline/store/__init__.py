"""The operational database: orgs, invoices, the submission-attempt log, invoice-number sequences."""
