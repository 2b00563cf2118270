from idcbq.cli import main

main()
