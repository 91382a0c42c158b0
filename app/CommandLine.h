// argv → the command to run. Decides between the GUI (QApplication) and a
// headless command (QCoreApplication) before any application object exists.
#pragma once

namespace eventdesk::app {

int run(int argc, char *argv[]);

} // namespace eventdesk::app
