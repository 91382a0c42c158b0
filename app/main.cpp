// eventdesk: the GUI with no subcommand, a headless tool with one (DESIGN §6).
#include "CommandLine.h"

int main(int argc, char *argv[])
{
    return eventdesk::app::run(argc, argv);
}
