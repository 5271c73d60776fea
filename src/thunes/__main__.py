"""`python -m thunes`."""

from thunes.cli import main

raise SystemExit(main())
