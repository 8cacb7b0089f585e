from tastegraph.cli.main import main

main()
