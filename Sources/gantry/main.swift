import GantryCLI
GantryCommand.runMain()
