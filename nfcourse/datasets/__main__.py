"""`python -m nfcourse.datasets [n_test] [seed]`: print every data set's oracle NLL on its test split."""

import sys

from nfcourse.datasets.registry import oracle_table

if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    print(oracle_table(*arguments))
