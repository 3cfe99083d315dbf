from nfcourse.cli import main

raise SystemExit(main())
