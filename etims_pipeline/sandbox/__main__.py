"""`python -m etims_pipeline.sandbox`: the same server and options as `etims-pipeline sandbox`."""

import argparse
import sys

from etims_pipeline.cli.sandbox import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m etims_pipeline.sandbox", description=__doc__)
add_arguments(parser)
sys.exit(run(parser.parse_args()))
