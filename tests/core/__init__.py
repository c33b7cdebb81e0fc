"""Tests of the valuation core (a package so module names cannot clash with other test folders)."""
