import sys

from labsock.cli import main

sys.exit(main())
