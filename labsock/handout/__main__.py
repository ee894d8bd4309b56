"""python -m labsock.handout [FOLDER]: write the student version (default folder: student)."""

import argparse
import sys

from labsock.handout.writer import write_handout
from labsock.logic.errors import LabsockError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labsock.handout",
        description=(
            "Write the student version of every notebook: each reference solution between "
            "### BEGIN SOLUTION and ### END SOLUTION becomes a stub, and the outputs that came "
            "from solutions are cleared. The folder also gets what a student installs from."
        ),
    )
    parser.add_argument("folder", nargs="?", default="student", help="where to write (student)")
    args = parser.parse_args(argv)
    try:
        write_handout(args.folder)
    except LabsockError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Hand out the folder {args.folder}: students install and open it as the README says.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
