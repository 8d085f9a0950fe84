"""Reading review workbooks: the safe package layer (``package``) and cross-table checks
(``validate``). The public entry points live in ``reviewkit.reader``."""
