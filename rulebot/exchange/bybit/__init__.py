"""The Bybit V5 adapter (pybit); ``params`` turns model requests into pybit keyword arguments."""
