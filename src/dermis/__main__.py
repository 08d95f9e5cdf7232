import sys

from dermis.cli.main import main

sys.exit(main())
