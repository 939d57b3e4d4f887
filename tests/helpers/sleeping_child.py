"""A child process that never answers (`python -m tests.helpers.sleeping_child`): a chart
drawing that hangs."""

import time

if __name__ == "__main__":
    time.sleep(120)
