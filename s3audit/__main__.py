from s3audit.cli import main

raise SystemExit(main())
