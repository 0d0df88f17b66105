"""The command line (PRODUCT.md section 10)."""
