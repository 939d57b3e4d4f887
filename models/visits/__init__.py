"""Home-visit records 家访记录: the tables, saving and counting them, and reading a one-message log."""
