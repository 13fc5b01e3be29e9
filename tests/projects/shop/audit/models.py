"""An app whose migration depends on ledger's squashed migration."""
